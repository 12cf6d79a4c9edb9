// Supermarket Hot Deals: the strip a shop puts on its own page (docs/integrate.md).
//
//   <script src="https://deals.example/embed/0.1.0/hot-deals.js" defer></script>
//   <hot-deals project="3"></hot-deals>
//
// A custom element with no dependency and no build step. It ranks the campaign's deals for this
// visitor (POST /api/projects/{id}/rank), draws them as cards in its shadow root and reports
// the click when the visitor presses a deal's button (POST /api/clicks); with a `buy`
// attribute, a second button reports a purchase at the deal's price (POST /api/purchases), and
// element.reportPurchase() lets the shop's checkout report one later. Whatever goes wrong (we
// are down, slow, paused, refused), it draws nothing, warns once on the console and never
// throws into the shop's page. Every string from the API reaches the page as text, never as
// markup.
"use strict";

(() => {
  if (typeof window === "undefined" || !window.customElements || !window.fetch) return;
  if (window.customElements.get("hot-deals")) return; // the script was included twice

  const TAG = "hot-deals";
  const VISITOR_KEY = "hot-deals:visitor-id"; // localStorage, on the shop's origin
  const DEFAULT_TIMEOUT_MS = 1500;
  const PURCHASE_TIMEOUT_MS = 10000; // a purchase report waits longer than a page's deals
  const MAX_K = 20;
  const VISITOR_ID = /^[\x21-\x7e]{1,128}$/; // the API's rule: visible ASCII
  const PROJECT_ID = /^[1-9][0-9]{0,17}$/;
  const MONEY = /^(\d{1,12})(?:\.(\d{1,2}))?$/; // the API's decimal strings: "3.49", "12"
  const CURRENCY = /^[A-Z]{3}$/;

  function randomId() {
    const crypto = window.crypto;
    if (crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    if (crypto && typeof crypto.getRandomValues === "function") crypto.getRandomValues(bytes);
    else for (let i = 0; i < bytes.length; i += 1) bytes[i] = Math.floor(Math.random() * 256);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // The service's base URL: where this very script came from (…/embed/[version/]hot-deals.js),
  // read while it runs, the only moment document.currentScript names it.
  function serviceBase(script) {
    const src = script && script.src;
    if (!src) return window.location.origin;
    const url = new URL(src, window.location.href);
    const at = url.pathname.lastIndexOf("/embed/");
    return url.origin + (at > 0 ? url.pathname.slice(0, at) : "");
  }

  const SCRIPT_BASE = serviceBase(document.currentScript);
  // One per page view: a rank retried or repeated by this page (an element moved, a race on
  // reload) is answered with the same deals and logs nothing twice.
  const PAGE_VIEW = randomId();
  let elements = 0;
  let memoryVisitor = null;

  function storedVisitor() {
    try {
      const storage = window.localStorage;
      let id = storage.getItem(VISITOR_KEY);
      if (!id || !VISITOR_ID.test(id)) {
        id = `v-${randomId()}`;
        storage.setItem(VISITOR_KEY, id);
      }
      return id;
    } catch (blocked) {
      // Storage disabled or partitioned away: one id for this page view at least.
      if (!memoryVisitor) memoryVisitor = `v-${randomId()}`;
      return memoryVisitor;
    }
  }

  function warn(message) {
    try {
      console.warn(`hot-deals: ${message}`);
    } catch (ignored) {
      /* a console that throws is not our problem to report */
    }
  }

  function positiveInt(text, fallback, max) {
    if (text === null || !/^\s*\d+\s*$/.test(text)) return fallback;
    const value = Number.parseInt(text, 10);
    return value >= 1 && value <= max ? value : fallback;
  }

  // A price or value as the API writes it, in cents (null unless a positive decimal string):
  // integer arithmetic, so "1.99" x 3 is "5.97" and never 5.970000000000001.
  function cents(text) {
    const match = MONEY.exec(String(text));
    if (!match) return null;
    const amount = Number(match[1]) * 100 + Number((match[2] || "0").padEnd(2, "0"));
    return amount > 0 && Number.isSafeInteger(amount) ? amount : null;
  }

  function money(amount) {
    return `${Math.floor(amount / 100)}.${String(amount % 100).padStart(2, "0")}`;
  }

  class Failure extends Error {
    constructor(reason, message, status) {
      super(message);
      this.reason = reason;
      this.status = status;
    }
  }

  async function call(url, signal, options) {
    let response;
    try {
      response = await window.fetch(url, {
        ...options,
        mode: "cors",
        credentials: "omit",
        signal,
        headers: { Accept: "application/json", ...(options && options.headers) },
      });
    } catch (error) {
      if (signal.aborted) throw new Failure("timeout", "no answer in time");
      throw new Failure("network", `cannot reach ${url} (down, offline or CORS)`);
    }
    if (!response.ok) {
      let detail = "";
      try {
        const body = await response.json();
        if (body && typeof body.detail === "string") detail = `: ${body.detail.slice(0, 200)}`;
      } catch (ignored) {
        /* no JSON body: the status says enough */
      }
      throw new Failure("http", `${url} answered ${response.status}${detail}`, response.status);
    }
    try {
      return await response.json();
    } catch (error) {
      throw new Failure(signal.aborted ? "timeout" : "answer", `${url} answered no JSON`);
    }
  }

  const STYLE = `
    :host {
      display: block;
      font-family: var(--hot-deals-font, inherit);
      color: var(--hot-deals-text, inherit);
    }
    :host([hidden]) { display: none; }
    .strip { margin: 0; }
    h2 { font-size: 1.25em; margin: 0 0 0.75rem; }
    ul {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(var(--hot-deals-card-width, 11rem), 1fr));
      gap: var(--hot-deals-gap, 1rem);
      list-style: none;
      margin: 0;
      padding: 0;
    }
    li {
      display: flex;
      flex-direction: column;
      gap: 0.4rem;
      padding: 0.9rem;
      background: var(--hot-deals-card-bg, #fff);
      border: 1px solid var(--hot-deals-border, rgba(0, 0, 0, 0.12));
      border-radius: var(--hot-deals-radius, 0.75rem);
    }
    .media { display: block; font-size: 2.5rem; line-height: 1.2; min-height: 3rem; }
    img { display: block; width: 100%; aspect-ratio: 4 / 3; object-fit: cover;
          border-radius: calc(var(--hot-deals-radius, 0.75rem) / 2); }
    h3 { font-size: 1em; margin: 0; }
    .description { margin: 0; font-size: 0.9em; opacity: 0.8; }
    .price { margin: 0; font-weight: 700; font-size: 1.1em; }
    .actions { display: flex; flex-wrap: wrap; gap: 0.5rem; margin-top: auto; }
    button {
      flex: 1 1 auto;
      font: inherit;
      font-weight: 600;
      padding: 0.55rem 0.9rem;
      min-height: 2.75rem;
      color: var(--hot-deals-accent-text, #fff);
      background: var(--hot-deals-accent, #c8102e);
      border: 2px solid transparent;
      border-radius: var(--hot-deals-radius, 0.75rem);
      cursor: pointer;
    }
    button.buy {
      color: var(--hot-deals-buy-text, var(--hot-deals-accent, #c8102e));
      background: var(--hot-deals-buy-bg, transparent);
      border-color: var(--hot-deals-accent, #c8102e);
    }
    button:focus-visible {
      outline: 3px solid var(--hot-deals-focus, var(--hot-deals-accent, #c8102e));
      outline-offset: 2px;
    }
    button[aria-disabled="true"] { cursor: default; opacity: 0.75; }
    .status {
      position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
      clip: rect(0 0 0 0); white-space: nowrap; border: 0;
    }
    @media (forced-colors: active) { button { border-color: ButtonText; } }
  `;

  function element(tag, part, text) {
    const node = document.createElement(tag);
    if (part) node.setAttribute("part", part);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function formatPrice(price, currency) {
    if (price === null || price === undefined || price === "") return null;
    const amount = Number(price);
    if (!Number.isFinite(amount)) return null;
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(amount);
    } catch (unknownCurrency) {
      return `${price} ${currency || ""}`.trim();
    }
  }

  function httpUrl(text) {
    try {
      const url = new URL(String(text));
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (invalid) {
      return null;
    }
  }

  function validDeal(deal) {
    return (
      deal !== null &&
      typeof deal === "object" &&
      typeof deal.click_token === "string" &&
      typeof deal.bandit_name === "string" &&
      Number.isInteger(deal.bandit_id) &&
      Number.isInteger(deal.position)
    );
  }

  class HotDeals extends HTMLElement {
    constructor() {
      super();
      this.attachShadow({ mode: "open" });
      this._started = false;
      this._key = `${PAGE_VIEW}-${(elements += 1)}`;
      this._shown = new Map(); // bandit id -> the deal drawn, for reportPurchase
      this._base = null; // the API the deals came from
    }

    connectedCallback() {
      // Once per element: moving it in the page keeps its deals and logs nothing new.
      if (this._started) return;
      this._started = true;
      this.setAttribute("data-state", "loading");
      // After the current task: a framework that appends first and sets attributes next.
      queueMicrotask(() => {
        this._load().catch((error) => this._fail(new Failure("bug", String(error))));
      });
    }

    get _api() {
      const given = this.getAttribute("api");
      return (given && given.trim() ? given.trim() : SCRIPT_BASE).replace(/\/+$/, "");
    }

    async _load() {
      const timeoutMs = positiveInt(this.getAttribute("timeout-ms"), DEFAULT_TIMEOUT_MS, 600000);
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), timeoutMs);
      try {
        const api = this._api;
        let project = (this.getAttribute("project") || "").trim();
        if (!project) {
          const current = await call(`${api}/api/projects/current`, controller.signal);
          project = String(current && current.project_id);
        }
        if (!PROJECT_ID.test(project)) {
          throw new Failure("config", `project="${project.slice(0, 40)}" is not a campaign id`);
        }
        const given = this.getAttribute("visitor-id");
        const visitor = given === null ? storedVisitor() : given.trim();
        if (!VISITOR_ID.test(visitor)) {
          throw new Failure("config", "visitor-id must be 1-128 visible ASCII characters");
        }
        const body = { visitor_id: visitor };
        const k = positiveInt(this.getAttribute("slots"), null, MAX_K);
        if (k !== null) body.k = k;
        const answer = await call(`${api}/api/projects/${project}/rank`, controller.signal, {
          method: "POST",
          headers: { "Content-Type": "application/json", "Idempotency-Key": this._key },
          body: JSON.stringify(body),
        });
        const deals = answer && Array.isArray(answer.deals) ? answer.deals.filter(validDeal) : [];
        if (deals.length === 0) throw new Failure("empty", `project ${project} has no deal to show`);
        this._render(api, deals);
        this.setAttribute("data-state", "ready");
        this._emit("hot-deals:load", { project_id: Number(project), deals: deals.length });
      } catch (error) {
        this._fail(error instanceof Failure ? error : new Failure("bug", String(error)));
      } finally {
        clearTimeout(timer);
      }
    }

    _fail(failure) {
      this.shadowRoot.replaceChildren(); // nothing to see: the element collapses
      this.setAttribute("data-state", "failed");
      warn(`no deals shown (${failure.reason}): ${failure.message}`);
      const detail = { reason: failure.reason, message: failure.message };
      if (failure.status !== undefined) detail.status = failure.status;
      this._emit("hot-deals:error", detail);
    }

    _emit(type, detail) {
      this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
    }

    _render(api, deals) {
      const headingId = `hot-deals-heading-${this._key}`;
      const section = element("section", "strip");
      section.className = "strip";
      section.setAttribute("aria-labelledby", headingId);
      const heading = element("h2", "heading", this.getAttribute("heading") || "Hot deals");
      heading.id = headingId;
      const list = element("ul", "list");
      list.setAttribute("role", "list");
      const status = element("p", "status");
      status.className = "status";
      status.setAttribute("role", "status");
      status.setAttribute("aria-live", "polite");
      const cta = this.getAttribute("cta") || "Add to basket";
      const buy = this.hasAttribute("buy") ? this.getAttribute("buy").trim() || "Buy now" : null;
      this._base = api;
      this._shown = new Map(deals.map((deal) => [deal.bandit_id, deal]));
      for (const deal of deals) list.append(this._card(api, deal, cta, buy, status));
      section.append(heading, list, status);
      const style = document.createElement("style");
      style.textContent = STYLE;
      this.shadowRoot.replaceChildren(style, section);
    }

    _card(api, deal, cta, buy, status) {
      const card = element("li", "card");
      card.setAttribute("role", "listitem");
      card.setAttribute("data-bandit-id", String(deal.bandit_id));
      card.setAttribute("data-position", String(deal.position));
      const emoji = typeof deal.emoji === "string" && deal.emoji ? deal.emoji : null;
      const picture = deal.image_url ? httpUrl(deal.image_url) : null;
      if (picture) {
        const image = element("img", "image");
        image.alt = deal.bandit_name;
        image.loading = "lazy";
        image.decoding = "async";
        image.referrerPolicy = "no-referrer";
        image.src = picture;
        image.addEventListener("error", () => {
          if (emoji) image.replaceWith(this._emoji(emoji));
          else image.remove();
        });
        card.append(image);
      } else if (emoji) {
        card.append(this._emoji(emoji));
      }
      const name = element("h3", "name", deal.bandit_name);
      name.id = `${this._key}-deal-${deal.position}`;
      card.append(name);
      if (typeof deal.description === "string" && deal.description) {
        const description = element("p", "description", deal.description);
        description.className = "description";
        card.append(description);
      }
      const price = formatPrice(deal.price, deal.currency);
      if (price) {
        const tag = element("p", "price", price);
        tag.className = "price";
        card.append(tag);
      }
      const button = element("button", "cta", cta);
      button.type = "button";
      button.setAttribute("aria-describedby", name.id); // "Add to basket": which deal
      button.addEventListener("click", () => this._clicked(api, deal, card, button, status));
      const actions = element("div", "actions");
      actions.className = "actions";
      actions.append(button);
      if (buy !== null && cents(deal.price) !== null) {
        const buyButton = element("button", "buy", buy);
        buyButton.type = "button";
        buyButton.className = "buy";
        buyButton.setAttribute("aria-describedby", name.id); // "Buy now": which deal
        buyButton.addEventListener("click", () => this._bought(deal, card, buyButton, status));
        actions.append(buyButton);
      }
      card.append(actions);
      return card;
    }

    _emoji(emoji) {
      const span = element("span", "emoji", emoji);
      span.className = "media";
      span.setAttribute("aria-hidden", "true");
      return span;
    }

    _clicked(api, deal, card, button, status) {
      if (card.hasAttribute("data-added")) return; // counted once: a second press sends nothing
      card.setAttribute("data-added", "");
      button.setAttribute("aria-disabled", "true");
      button.setAttribute("part", "cta added");
      button.textContent = `✓ ${this.getAttribute("added") || "Added"}`;
      status.textContent = `${deal.bandit_name}: added to your basket.`;
      // keepalive: the click still reaches us if the shop's basket code leaves the page now.
      window
        .fetch(`${api}/api/clicks`, {
          method: "POST",
          mode: "cors",
          credentials: "omit",
          keepalive: true,
          headers: { Accept: "application/json", "Content-Type": "application/json" },
          body: JSON.stringify({ token: deal.click_token }),
        })
        .then((response) => {
          if (!response.ok) warn(`click not recorded: ${api}/api/clicks answered ${response.status}`);
        })
        .catch(() => warn(`click not recorded: cannot reach ${api}/api/clicks`));
      this._emit("hot-deals:click", {
        bandit_id: deal.bandit_id,
        bandit_name: deal.bandit_name,
        position: deal.position,
        transaction_id: deal.transaction_id,
        price: deal.price === undefined ? null : deal.price,
        currency: deal.currency === undefined ? null : deal.currency,
        click_token: deal.click_token, // for the shop's checkout: POST /api/purchases later
      });
    }

    // The buy button: a purchase of one at the deal's price, the price string the rank gave.
    _bought(deal, card, button, status) {
      if (card.hasAttribute("data-bought")) return; // reported once: a second press sends nothing
      card.setAttribute("data-bought", "");
      button.setAttribute("aria-disabled", "true");
      button.setAttribute("part", "buy bought");
      button.textContent = `✓ ${this.getAttribute("bought") || "Bought"}`;
      status.textContent = `${deal.bandit_name}: bought.`;
      const value = String(deal.price); // as the rank answer wrote it (cents() checked it)
      const detail = {
        bandit_id: deal.bandit_id,
        bandit_name: deal.bandit_name,
        position: deal.position,
        transaction_id: deal.transaction_id,
        value,
        quantity: 1,
        currency: typeof deal.currency === "string" ? deal.currency : null,
      };
      this._purchase(deal, { value, quantity: 1 })
        .then((answer) => {
          this._emit("hot-deals:purchase", {
            ...detail,
            recorded: true,
            already_recorded: Boolean(answer && answer.already_recorded),
          });
        })
        .catch((error) => {
          const failure = error instanceof Failure ? error : new Failure("bug", String(error));
          warn(`purchase not recorded (${failure.reason}): ${failure.message}`);
          const failed = { ...detail, recorded: false, already_recorded: false };
          failed.reason = failure.reason;
          failed.message = failure.message;
          if (failure.status !== undefined) failed.status = failure.status;
          this._emit("hot-deals:purchase", failed);
        });
    }

    // POST /api/purchases with the deal's click token; the API's answer, or a Failure.
    async _purchase(deal, report) {
      const body = { token: deal.click_token, ...report };
      if (typeof deal.currency === "string" && CURRENCY.test(deal.currency)) {
        body.currency = deal.currency;
      }
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), PURCHASE_TIMEOUT_MS);
      try {
        // keepalive: the report still reaches us if the page is left right after it.
        return await call(`${this._base}/api/purchases`, controller.signal, {
          method: "POST",
          keepalive: true,
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        });
      } finally {
        clearTimeout(timer);
      }
    }

    // The shop's checkout reports a purchase of a deal this element shows:
    //   element.reportPurchase({bandit_id: 7, value: "6.98", quantity: 2, order_id: "A-1"})
    // resolves with the API's answer ({transaction_id, bandit_id, already_recorded, ...}) and
    // rejects with an Error (its `reason`: "config", "http" with `status`, "network",
    // "timeout", "answer") naming what is wrong. `value` (a decimal string such as "3.49")
    // defaults to the deal's price x quantity.
    reportPurchase(purchase) {
      try {
        const { bandit_id: given, value, quantity = 1, order_id: orderId } = purchase || {};
        const banditId = typeof given === "string" && /^\d+$/.test(given) ? Number(given) : given;
        const deal = this._shown.get(banditId);
        if (!deal) {
          const why = this._shown.size ? "is not shown by this element" : "(no deals shown yet)";
          throw new Failure("config", `reportPurchase: bandit_id ${banditId} ${why}`);
        }
        if (!Number.isSafeInteger(quantity) || quantity < 1) {
          throw new Failure("config", "reportPurchase: quantity must be a positive integer");
        }
        let total = value === undefined || value === null ? null : String(value).trim();
        if (total === null) {
          const price = cents(deal.price);
          if (price === null) {
            throw new Failure("config", `reportPurchase: deal ${banditId} has no price: give value`);
          }
          total = money(price * quantity);
        } else if (cents(total) === null) {
          const wanted = 'a positive decimal string, at most two decimals: "3.49"';
          throw new Failure("config", `reportPurchase: value must be ${wanted}`);
        }
        const report = { value: total, quantity };
        if (orderId !== undefined && orderId !== null) report.order_id = String(orderId);
        return this._purchase(deal, report);
      } catch (error) {
        return Promise.reject(error);
      }
    }
  }

  window.customElements.define(TAG, HotDeals);
})();
