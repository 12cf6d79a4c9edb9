"""The embeddable strip on a shop's own page (another origin), in Chromium, against our server.

The shop is a plain ``http.server`` on a second port serving static HTML that holds nothing of
ours but the ``<script src>`` tag and the ``<hot-deals>`` element; the service allows that origin
by ``HOTDEALS_CORS_ORIGINS``, as a shop's operator would. Synchronisation is by Playwright's
waiting assertions and by waiting for the very response or console message a step causes;
polling the API has a deadline. What a test records in the page (the strip's events) is put
there by Playwright's init script, never by the shop's HTML.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import Engine, bindparam, text
from sqlalchemy.exc import OperationalError

from hotdeals import __version__
from hotdeals.db.engine import make_engine
from hotdeals.db.migrate import upgrade_to_head
from tests.conftest import require
from tests.factories import post_project
from tests.support.postgres import migrated_postgres
from tests.support.server import ServerProcess, api_client

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page, Response

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NewPage = Callable[..., "Page"]
VISITOR_KEY = "hot-deals:visitor-id"
# Test instrumentation (Playwright's init script, not the shop's page): every strip event.
RECORD_EVENTS = """
window.stripEvents = [];
for (const kind of ["load", "error", "click", "purchase"]) {
  const type = `hot-deals:${kind}`;
  document.addEventListener(type, (event) => window.stripEvents.push({type, detail: event.detail}));
}
"""
HOST_TEXT = ["Corner Shop", "Fresh bread every morning.", "Open 8:00-20:00."]


@pytest.fixture
def expect() -> Any:
    from playwright.sync_api import expect

    expect.set_options(timeout=10_000)
    return expect


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """The shop's access log would only clutter the test output."""


@dataclass(frozen=True)
class Shop:
    """The shop's web server: static files from ``directory`` on its own origin."""

    base_url: str
    directory: Path

    def page(self, name: str, script: str, element: str) -> str:
        """A shop page with its own content, our script tag and ``element``; returns its URL."""
        html = f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Corner Shop</title><link rel="icon" href="data:,"></head>
<body>
<h1>Corner Shop</h1>
<p>Fresh bread every morning.</p>
{element}
<p>Open 8:00-20:00.</p>
<script src="{script}"></script>
</body>
</html>
"""
        (self.directory / name).write_text(html, encoding="utf-8")
        return f"{self.base_url}/{name}"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    directory = tmp_path_factory.mktemp("shop")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=directory))
    thread = threading.Thread(target=server.serve_forever, name="shop", daemon=True)
    thread.start()
    try:
        yield Shop(f"http://127.0.0.1:{server.server_address[1]}", directory)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass(frozen=True)
class Service:
    """Our server, an admin client of its API and an engine on its database."""

    server: ServerProcess
    api: httpx.Client
    engine: Engine

    @property
    def script(self) -> str:
        return f"{self.server.base_url}/embed/{__version__}/hot-deals.js"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def service(
    request: pytest.FixtureRequest, shop: Shop, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """``hotdeals serve`` on a fresh database of the backend, allowing the shop's origin."""
    with ExitStack() as stack:
        if request.param == "postgresql":
            try:
                url = stack.enter_context(migrated_postgres())
            except OperationalError as exc:
                require(f"no PostgreSQL server for the strip tests: {exc.orig}")
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('embed') / 'hotdeals.db'}"
            upgrade_to_head(migrating := make_engine(url))
            migrating.dispose()
        cors = {"HOTDEALS_CORS_ORIGINS": shop.base_url}
        server = stack.enter_context(ServerProcess(url, extra_env=cors))
        api = stack.enter_context(api_client(server.base_url))
        engine = make_engine(url)
        stack.callback(engine.dispose)
        yield Service(server, api, engine)


def open_page(new_page: NewPage) -> tuple[Page, list[str]]:
    """A fresh page recording the strip's events, and the console warnings it logs."""
    page = new_page()
    page.add_init_script(RECORD_EVENTS)
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    return page, warnings


def is_rank(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/rank")


def is_click(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/api/clicks")


def is_purchase(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/api/purchases")


def is_strip_warning(message: ConsoleMessage) -> bool:
    return message.type == "warning" and message.text.startswith("hot-deals:")


def events(page: Page, kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate(
        "kind => window.stripEvents.filter(e => e.type === kind).map(e => e.detail)", kind
    )
    return found


def deal_clicks(service: Service, project_id: int) -> dict[int, int]:
    answer = service.api.get(f"/api/projects/{project_id}/stats")
    assert answer.status_code == 200, answer.text
    return {row["bandit_id"]: row["clicks"] for row in answer.json()["bandits"]}


def deal_figures(service: Service, project_id: int) -> dict[int, tuple[int, int, float]]:
    """Each deal's clicks, purchases and purchase value, as the API's /stats says."""
    answer = service.api.get(f"/api/projects/{project_id}/stats")
    assert answer.status_code == 200, answer.text
    return {
        row["bandit_id"]: (row["clicks"], row["purchases"], row["purchase_value"])
        for row in answer.json()["bandits"]
    }


def eventually(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll ``check`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(0.05)  # the polling interval, not synchronisation


def assert_collapsed(page: Page, expect: Any, warnings: list[str]) -> None:
    """The strip drew nothing, the page shows only its own words, and we said why once."""
    strip = page.locator("hot-deals")
    expect(strip).to_have_attribute("data-state", "failed")
    assert strip.evaluate("element => element.shadowRoot.childNodes.length") == 0
    assert strip.evaluate("element => element.getBoundingClientRect().height") == 0
    shown = [line for line in page.locator("body").inner_text().splitlines() if line.strip()]
    assert shown == HOST_TEXT
    (warning,) = [text for text in warnings if text.startswith("hot-deals:")]
    assert warning.startswith("hot-deals: no deals shown")


def test_the_strip_ranks_draws_and_counts_a_click_from_another_origin(
    service: Service, shop: Shop, new_page: NewPage, expect: Any
) -> None:
    names = ["Strawberries 2 for 1", "Sourdough loaf", "Oat milk"]
    project = post_project(service.api, deals=names, currency="GBP")
    project_id, bandit_ids = project["project_id"], {b["bandit_id"] for b in project["bandits"]}
    url = shop.page(
        "strip.html", service.script, f'<hot-deals project="{project_id}" slots="2"></hot-deals>'
    )
    page, warnings = open_page(new_page)
    with page.expect_response(is_rank) as ranked:
        page.goto(url)
    assert ranked.value.status == 200
    assert ranked.value.request.header_value("idempotency-key")
    cards = page.locator("hot-deals li[data-bandit-id]")
    expect(cards).to_have_count(2)
    expect(page.get_by_role("heading", name="Hot deals")).to_be_visible()
    expect(page.get_by_role("listitem")).to_have_count(2)
    assert [cards.nth(i).get_attribute("data-position") for i in range(2)] == ["1", "2"]
    shown = [int(cards.nth(i).get_attribute("data-bandit-id") or 0) for i in range(2)]
    assert set(shown) <= bandit_ids
    assert len(set(shown)) == 2
    assert {cards.nth(i).get_by_role("heading").inner_text() for i in range(2)} <= set(names)
    pounds = page.evaluate(
        "() => new Intl.NumberFormat(undefined, {style: 'currency', currency: 'GBP'}).format(1.99)"
    )
    expect(cards.first.locator("[part=price]")).to_have_text(pounds)
    assert "£" in pounds

    button = cards.first.get_by_role("button")
    expect(button).to_have_text("Add to basket")
    button.focus()
    with page.expect_response(is_click) as clicked:
        page.keyboard.press("Enter")  # keyboard, as a visitor without a mouse would
    assert clicked.value.status == 200
    expect(button).to_have_text("✓ Added")
    expect(button).to_have_attribute("aria-disabled", "true")
    expect(page.get_by_role("status")).to_contain_text("added to your basket")
    eventually(
        lambda: deal_clicks(service, project_id)[shown[0]] == 1, f"a click on deal {shown[0]}"
    )
    transaction = ranked.value.json()["deals"][0]["transaction_id"]
    expected = {"bandit_id": shown[0], "position": 1, "transaction_id": transaction}
    assert expected.items() <= events(page, "hot-deals:click")[0].items()

    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url))
    button.click(force=True)  # pressed again: aria-disabled, nothing is sent
    expect(button).to_have_text("✓ Added")
    assert len(events(page, "hot-deals:click")) == 1
    assert [url for url in sent if "/api/clicks" in url] == []
    assert sum(deal_clicks(service, project_id).values()) == 1
    assert events(page, "hot-deals:error") == []
    assert [text for text in warnings if text.startswith("hot-deals:")] == []


# The shop's checkout, in the page: the element's reportPurchase, its answer or its Error.
REPORT_PURCHASE = """async (purchase) => {
  try {
    return {answer: await document.querySelector("hot-deals").reportPurchase(purchase)};
  } catch (error) {
    const {message, reason} = error;
    return {error: {is_error: error instanceof Error, message, reason, status: error.status}};
  }
}"""


def test_buy_reports_one_purchase_at_the_deals_price_and_implies_the_click(
    service: Service, shop: Shop, new_page: NewPage, expect: Any
) -> None:
    project = post_project(service.api, deals=["Plums", "Pears"], price="3.49", currency="GBP")
    project_id = project["project_id"]
    element = f'<hot-deals project="{project_id}" slots="2" buy="Buy now"></hot-deals>'
    url = shop.page("buy.html", service.script, element)
    page, warnings = open_page(new_page)
    with page.expect_response(is_rank) as ranked:
        page.goto(url)
    first, second = ranked.value.json()["deals"]
    cards = page.locator("hot-deals li[data-bandit-id]")
    expect(cards).to_have_count(2)
    card = cards.first
    expect(card).to_have_attribute("data-bandit-id", str(first["bandit_id"]))
    expect(card.get_by_role("button")).to_have_text(["Add to basket", "Buy now"])
    buy = card.locator("[part~=buy]")
    expect(buy).to_have_accessible_description(first["bandit_name"])
    buy.focus()
    with page.expect_response(is_purchase) as bought:
        page.keyboard.press("Enter")
    assert bought.value.status == 200
    assert bought.value.request.post_data_json == {
        "token": first["click_token"],
        "value": "3.49",  # the price string of the rank answer, as it came
        "quantity": 1,
        "currency": "GBP",
    }
    answer = bought.value.json()
    assert (answer["already_recorded"], answer["click_implied"]) == (False, True)
    expect(buy).to_have_text("✓ Bought")
    expect(buy).to_have_attribute("aria-disabled", "true")
    expect(card).to_have_attribute("data-bought", "")
    expect(page.get_by_role("status")).to_have_text(f"{first['bandit_name']}: bought.")
    page.wait_for_function("() => window.stripEvents.some(e => e.type === 'hot-deals:purchase')")
    assert events(page, "hot-deals:purchase") == [
        {
            "bandit_id": first["bandit_id"],
            "bandit_name": first["bandit_name"],
            "position": 1,
            "transaction_id": first["transaction_id"],
            "value": "3.49",
            "quantity": 1,
            "currency": "GBP",
            "recorded": True,
            "already_recorded": False,
        }
    ]
    # One purchase of 3.49, and the click it implies, on that deal alone.
    assert deal_figures(service, project_id) == {
        first["bandit_id"]: (1, 1, 3.49),
        second["bandit_id"]: (0, 0, 0.0),
    }

    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url))
    buy.click(force=True)  # pressed again: aria-disabled, nothing is sent
    expect(buy).to_have_text("✓ Bought")
    assert [url for url in sent if "/api/purchases" in url] == []
    assert len(events(page, "hot-deals:purchase")) == 1

    # "Add to basket" on the other deal: its click event carries the token for a checkout.
    with page.expect_response(is_click):
        cards.nth(1).get_by_role("button", name="Add to basket").click()
    (click,) = events(page, "hot-deals:click")
    assert click["click_token"] == second["click_token"]
    assert click["bandit_id"] == second["bandit_id"]
    assert deal_figures(service, project_id)[second["bandit_id"]] == (1, 0, 0.0)
    assert [text for text in warnings if text.startswith("hot-deals:")] == []


def test_no_buy_button_without_a_price_or_without_the_attribute(
    service: Service, shop: Shop, new_page: NewPage, expect: Any
) -> None:
    deals = [{"bandit_name": "Priced", "price": "2.00"}, {"bandit_name": "Unpriced"}]
    created = service.api.post("/api/projects", json={"project_name": "Buy", "bandits": deals})
    assert created.status_code == 201, created.text
    project_id = created.json()["project_id"]
    unpriced_id = created.json()["bandits"][1]["bandit_id"]
    element = f'<hot-deals project="{project_id}" buy="Order now"></hot-deals>'
    page, warnings = open_page(new_page)
    page.goto(shop.page("buy-some.html", service.script, element))
    cards = page.locator("hot-deals li")
    expect(cards).to_have_count(2)

    def card(name: str) -> Any:
        return cards.filter(has=page.get_by_role("heading", name=name, exact=True))

    expect(card("Priced").get_by_role("button")).to_have_text(["Add to basket", "Order now"])
    expect(card("Unpriced").get_by_role("button")).to_have_text(["Add to basket"])
    # The open endpoint takes no purchase of a deal without a price: the checkout is told why.
    result = page.evaluate(REPORT_PURCHASE, {"bandit_id": unpriced_id, "value": "1.00"})
    assert result["error"]["reason"] == "http"
    assert result["error"]["status"] == 400
    assert "no price" in result["error"]["message"]
    no_value = page.evaluate(REPORT_PURCHASE, {"bandit_id": unpriced_id})
    assert no_value["error"]["reason"] == "config"
    assert "has no price" in no_value["error"]["message"]

    plain = f'<hot-deals project="{project_id}"></hot-deals>'
    other, _ = open_page(new_page)
    other.goto(shop.page("no-buy.html", service.script, plain))
    expect(other.locator("hot-deals li")).to_have_count(2)
    expect(other.locator("hot-deals button")).to_have_text(["Add to basket"] * 2)
    expect(other.locator("hot-deals [part~=buy]")).to_have_count(0)
    assert sum(purchases for _, purchases, _ in deal_figures(service, project_id).values()) == 0
    assert [text for text in warnings if text.startswith("hot-deals:")] == []


def test_a_buy_that_cannot_reach_us_warns_once_and_says_not_recorded(
    service: Service, shop: Shop, new_page: NewPage, expect: Any
) -> None:
    project_id = post_project(service.api, deals=["Kale"], price="0.99")["project_id"]
    element = f'<hot-deals project="{project_id}" buy="Buy now"></hot-deals>'
    page, warnings = open_page(new_page)
    page.route("**/api/purchases", lambda route: route.abort())  # offline at checkout time
    page.goto(shop.page("buy-offline.html", service.script, element))
    buy = page.locator("hot-deals [part~=buy]")
    with page.expect_console_message(is_strip_warning) as warned:
        buy.click()
    assert warned.value.text.startswith("hot-deals: purchase not recorded (network)")
    expect(buy).to_have_text("✓ Bought")  # the shop's page is not told off: it was pressed
    (event,) = events(page, "hot-deals:purchase")
    assert (event["recorded"], event["reason"], event["value"]) == (False, "network", "0.99")
    assert "status" not in event
    assert [text for text in warnings if text.startswith("hot-deals:")] == [warned.value.text]
    assert events(page, "hot-deals:error") == []
    assert list(deal_figures(service, project_id).values()) == [(0, 0, 0.0)]


def test_the_shops_checkout_reports_a_purchase_through_the_element(
    service: Service, shop: Shop, new_page: NewPage, expect: Any
) -> None:
    project = post_project(service.api, deals=["Apples", "Figs"], price="1.99")
    project_id = project["project_id"]
    element = f'<hot-deals project="{project_id}" slots="2"></hot-deals>'
    page, warnings = open_page(new_page)
    with page.expect_response(is_rank) as ranked:
        page.goto(shop.page("checkout.html", service.script, element))
    expect(page.locator("hot-deals")).to_have_attribute("data-state", "ready")
    first, second = ranked.value.json()["deals"]
    expect(page.locator("hot-deals [part~=buy]")).to_have_count(0)  # no buy attribute

    order = {"bandit_id": first["bandit_id"], "value": "3.50", "quantity": 2, "order_id": "A-1"}
    with page.expect_response(is_purchase) as reported:
        result = page.evaluate(REPORT_PURCHASE, order)
    assert reported.value.request.post_data_json == {
        "token": first["click_token"],
        "value": "3.50",
        "quantity": 2,
        "order_id": "A-1",
        "currency": first["currency"],
    }
    assert result == {
        "answer": {
            "transaction_id": first["transaction_id"],
            "bandit_id": first["bandit_id"],
            "already_recorded": False,
            "click_implied": True,
            "purchases": 1,
            "purchase_value": "3.50",
        }
    }
    again = page.evaluate(REPORT_PURCHASE, order)["answer"]  # the checkout retried
    assert (again["already_recorded"], again["purchases"]) == (True, 1)

    # Without a value: the deal's price x quantity, to the cent (a bandit id as the card's
    # data-bandit-id gives it, a string, is fine).
    three = page.evaluate(REPORT_PURCHASE, {"bandit_id": str(second["bandit_id"]), "quantity": 3})
    assert three["answer"]["purchase_value"] == "5.97"

    unknown = page.evaluate(REPORT_PURCHASE, {"bandit_id": 987654321, "value": "1.00"})["error"]
    assert unknown["is_error"]
    assert unknown["reason"] == "config"
    assert "987654321 is not shown by this element" in unknown["message"]
    too_much = {"bandit_id": first["bandit_id"], "value": "2.00", "order_id": "A-2"}
    refused = page.evaluate(REPORT_PURCHASE, too_much)["error"]
    assert (refused["reason"], refused["status"]) == ("http", 400)
    assert "more than the deal's price" in refused["message"]
    floating = page.evaluate(REPORT_PURCHASE, {"bandit_id": first["bandit_id"], "value": 1.999})
    assert "decimal string" in floating["error"]["message"]

    assert deal_figures(service, project_id) == {
        first["bandit_id"]: (1, 1, 3.5),
        second["bandit_id"]: (1, 1, 5.97),
    }
    assert events(page, "hot-deals:purchase") == []  # the method answers; no event
    assert [text for text in warnings if text.startswith("hot-deals:")] == []


def test_a_reload_ranks_again_for_the_same_stored_visitor(
    service: Service, shop: Shop, new_page: NewPage, expect: Any
) -> None:
    project_id = post_project(service.api, deals=4)["project_id"]
    url = shop.page(
        "reload.html", service.script, f'<hot-deals project="{project_id}" slots="2"></hot-deals>'
    )
    page, _ = open_page(new_page)
    with page.expect_response(is_rank) as first:
        page.goto(url)
    expect(page.locator("hot-deals li")).to_have_count(2)
    answers = [first.value.json()]  # read before the reload discards it
    with page.expect_response(is_rank) as second:
        page.reload()
    expect(page.locator("hot-deals li")).to_have_count(2)
    answers.append(second.value.json())

    visitor = page.evaluate(f"() => localStorage.getItem('{VISITOR_KEY}')")
    assert [a["visitor_id"] for a in answers] == [visitor, visitor]
    keys = {r.value.request.header_value("idempotency-key") for r in (first, second)}
    assert len(keys) == 2  # one per page view
    ids = [d["transaction_id"] for a in answers for d in a["deals"]]
    assert len(set(ids)) == 4  # two page views, two impressions each
    with service.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT customer_id FROM users WHERE visitor_id = :v"), {"v": visitor}
        ).all()
        customers = connection.execute(
            text(
                "SELECT DISTINCT customer_id FROM transactions WHERE transaction_id IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": ids},
        ).all()
    assert len(rows) == 1
    assert customers == rows


def test_a_shops_own_visitor_id_and_the_current_campaign(
    service: Service, shop: Shop, new_page: NewPage, expect: Any
) -> None:
    project = post_project(service.api, deals=["Bananas"], price=None)
    url = shop.page(
        "current.html",
        service.script,
        '<hot-deals visitor-id="shop-customer-7" heading="This week" cta="Buy"></hot-deals>',
    )
    page, _ = open_page(new_page)
    with page.expect_response(is_rank) as ranked:
        page.goto(url)
    assert ranked.value.json()["visitor_id"] == "shop-customer-7"
    card = page.locator("hot-deals li")
    expect(card).to_have_attribute("data-bandit-id", str(project["bandits"][0]["bandit_id"]))
    expect(page.get_by_role("heading", name="This week")).to_be_visible()
    expect(card.get_by_role("button")).to_have_text("Buy")
    expect(card.locator("[part=price]")).to_have_count(0)  # no price: no price line
    assert page.evaluate(f"() => localStorage.getItem('{VISITOR_KEY}')") is None


def test_a_paused_campaign_shows_nothing_and_warns(
    service: Service, shop: Shop, new_page: NewPage, expect: Any
) -> None:
    project_id = post_project(service.api, deals=3)["project_id"]
    paused = service.api.patch(f"/api/projects/{project_id}", json={"status": "paused"})
    assert paused.status_code == 200, paused.text
    element = f'<hot-deals project="{project_id}"></hot-deals>'
    url = shop.page("paused.html", service.script, element)
    page, warnings = open_page(new_page)
    with page.expect_console_message(is_strip_warning) as warned:
        page.goto(url)
    assert_collapsed(page, expect, warnings)
    assert "409" in warned.value.text
    (error,) = events(page, "hot-deals:error")
    assert (error["reason"], error["status"]) == ("http", 409)


def test_when_we_are_down_or_slow_the_shops_page_is_untouched(
    service: Service, shop: Shop, new_page: NewPage, expect: Any
) -> None:
    project_id = post_project(service.api, deals=2)["project_id"]
    # The script comes from the module's server; the strip's API is a second server on the
    # same database, which the test stops: the script still loads, the API it calls is gone.
    cors = {"HOTDEALS_CORS_ORIGINS": shop.base_url}
    with ServerProcess(service.server.database_url, extra_env=cors, measured=False) as replica:
        element = f'<hot-deals project="{project_id}" api="{replica.base_url}/"></hot-deals>'
        url = shop.page("down.html", service.script, element)
        page, warnings = open_page(new_page)
        page.goto(url)
        expect(page.locator("hot-deals li")).to_have_count(2)  # the api attribute is obeyed
        replica.stop()
        with page.expect_console_message(is_strip_warning):
            page.reload()
        assert_collapsed(page, expect, warnings)
        assert events(page, "hot-deals:error")[0]["reason"] == "network"

    # A service that accepts the connection and never answers: the timeout ends the wait.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        element = (
            f'<hot-deals project="{project_id}" api="http://127.0.0.1:{port}" timeout-ms="300">'
            "</hot-deals>"
        )
        url = shop.page("slow.html", service.script, element)
        page, warnings = open_page(new_page)
        with page.expect_console_message(is_strip_warning, timeout=5_000):
            page.goto(url)
        assert_collapsed(page, expect, warnings)
        assert events(page, "hot-deals:error")[0]["reason"] == "timeout"


def test_deal_names_are_drawn_as_text_never_as_markup(
    service: Service, shop: Shop, new_page: NewPage, expect: Any
) -> None:
    names = ["<img src=x onerror=window.pwned=1>", "<b>bold</b><script>window.pwned=2</script>"]
    markup = '<svg onload="window.pwned=3">'
    deals = [{"bandit_name": name, "description": markup, "price": "2.50"} for name in names]
    created = service.api.post("/api/projects", json={"project_name": "XSS", "bandits": deals})
    assert created.status_code == 201, created.text
    project_id = created.json()["project_id"]
    url = shop.page("xss.html", service.script, f'<hot-deals project="{project_id}"></hot-deals>')
    page, _ = open_page(new_page)
    page.goto(url)
    cards = page.locator("hot-deals li")
    expect(cards).to_have_count(2)
    assert {cards.nth(i).locator("[part=name]").inner_text() for i in range(2)} == set(names)
    expect(cards.first.locator("[part=description]")).to_have_text(markup)
    assert page.locator("hot-deals img, hot-deals b, hot-deals svg").count() == 0
    assert page.evaluate("() => window.pwned") is None


def test_the_script_urls_cache_headers_and_unknown_versions(service: Service) -> None:
    versioned = httpx.get(service.script, timeout=10)
    latest = httpx.get(f"{service.server.base_url}/embed/hot-deals.js", timeout=10)
    for answer in (versioned, latest):
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "text/javascript; charset=utf-8"
        assert answer.headers["access-control-allow-origin"] == "*"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cross-origin-resource-policy"] == "cross-origin"
        assert "customElements.define" in answer.text
    assert versioned.content == latest.content
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert latest.headers["cache-control"] == "public, max-age=300"
    again = httpx.get(latest.url, headers={"If-None-Match": latest.headers["etag"]}, timeout=10)
    assert again.status_code == 304
    assert again.content == b""

    other = httpx.get(f"{service.server.base_url}/embed/0.0.1/hot-deals.js", timeout=10)
    assert other.status_code == 404
    assert other.headers["content-type"] == "application/json"
    assert "0.0.1" in other.json()["detail"]
