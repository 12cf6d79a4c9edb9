// The project page's live figures: poll data.json every few seconds and update the decision
// panel, the table cells, the totals, the winner suggestion and the Plotly charts in place
// (no reload, focus kept).
// The server formats every value and builds every figure; this file only puts them on the page.
"use strict";

(() => {
  const root = document.getElementById("project-dashboard");
  if (!root) return;
  const every = Number(root.dataset.refreshMs) || 5000;
  const statusLine = document.getElementById("refresh-status");
  const bucket = document.getElementById("bucket");
  const config = { responsive: true, displaylogo: false, displayModeBar: false };
  let timer = null;
  let stopped = false;
  let busy = false;

  // On a phone the legend takes one row per deal: grow the chart so the plot keeps its height,
  // and ask for fewer date ticks so they stay horizontal.
  function fitted(figure, element) {
    if (element.clientWidth >= 560) return figure.layout;
    const layout = structuredClone(figure.layout);
    if (layout.showlegend !== false) layout.height = (layout.height || 340) + 20 * figure.data.length;
    if (layout.xaxis && layout.xaxis.type === "date") layout.xaxis.nticks = 4;
    return layout;
  }

  const setText = (element, text) => {
    if (element && element.textContent !== text) element.textContent = text;
  };

  // The panel's sentences by their data-decision names, and each condition's row by name.
  function applyDecision(decision) {
    const panel = document.getElementById("decision");
    if (!panel || !decision) return;
    panel.dataset.state = decision.state;
    for (const element of panel.querySelectorAll("[data-decision]")) {
      const text = decision[element.dataset.decision];
      if (typeof text === "string") setText(element, text);
    }
    for (const condition of decision.conditions) {
      const row = panel.querySelector(`tr[data-condition="${condition.name}"]`);
      if (!row) continue;
      row.dataset.met = String(condition.met);
      row.title = condition.text;
      setText(row.querySelector('[data-field="value"]'), condition.value);
      setText(row.querySelector('[data-field="needed"]'), condition.needed);
      setText(row.querySelector('[data-field="met"]'), condition.met ? "met" : "missing");
    }
  }

  function apply(payload) {
    const status = payload.project.status;
    const effective = payload.project.effective_status;
    root.dataset.status = status;
    root.dataset.effectiveStatus = effective;
    const badge = document.querySelector("#project-status .badge");
    if (badge) {
      setText(badge, effective);
      badge.className = `badge badge-${effective}`;
    }
    applyDecision(payload.decision);
    for (const [name, text] of Object.entries(payload.totals)) {
      setText(root.querySelector(`[data-total="${name}"]`), text);
    }
    for (const row of payload.rows) {
      const tr = root.querySelector(`#arm-table tr[data-bandit-id="${row.bandit_id}"]`);
      if (!tr) {
        document.getElementById("deals-changed")?.removeAttribute("hidden");
        continue;
      }
      for (const [field, text] of Object.entries(row.cells)) {
        setText(tr.querySelector(`[data-field="${field}"]`), text);
      }
      const control = document.querySelector(`li[data-deal="${row.bandit_id}"]`);
      setText(control?.querySelector('[data-field="deal-state"]'), row.cells.state);
    }
    const winner = document.getElementById("winner-suggestion");
    if (winner) {
      setText(winner.querySelector('[data-field="winner"]'), payload.winner || "");
      winner.hidden = !payload.winner || status === "ended";
    }
    // A chart drawn only for some campaigns (revenue, once there is a purchase) is shown when
    // the feed carries it: before it is drawn, so that Plotly measures a visible element.
    for (const card of root.querySelectorAll("[data-optional-chart]")) {
      card.hidden = !(card.dataset.optionalChart in payload.charts);
    }
    if (window.Plotly) {
      for (const [id, figure] of Object.entries(payload.charts)) {
        const element = document.getElementById(id);
        if (element) window.Plotly.react(element, figure.data, fitted(figure, element), config);
      }
    }
    const note = document.getElementById("charted-note");
    if (note && payload.charted) {
      const { deals, of } = payload.charted;
      note.hidden = deals >= of;
      note.textContent = `The charts show the ${deals} deals with the most impressions, of ${of}.`;
    }
    root.dataset.bucket = payload.series.bucket;
    root.dataset.refreshes = String(Number(root.dataset.refreshes) + 1);
  }

  async function refresh() {
    if (busy || stopped) return;
    busy = true;
    clearTimeout(timer);
    try {
      const url = new URL(root.dataset.dataUrl, window.location.href);
      url.searchParams.set("bucket", bucket ? bucket.value : "auto");
      const response = await fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (response.status === 401) {
        stopped = true;
        setText(statusLine, "Your session has expired: sign in again to see live figures.");
        return;
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      apply(await response.json());
      setText(statusLine, `Updated ${new Date().toLocaleTimeString()}`);
    } catch (error) {
      setText(statusLine, "Could not refresh the figures; trying again shortly.");
    } finally {
      busy = false;
      schedule();
    }
  }

  function schedule() {
    clearTimeout(timer);
    if (!stopped && !document.hidden) timer = setTimeout(refresh, every);
  }

  // A hidden tab stops polling; coming back refreshes at once.
  document.addEventListener("visibilitychange", () => (document.hidden ? clearTimeout(timer) : refresh()));
  if (bucket) bucket.addEventListener("change", refresh);
  refresh();
})();
