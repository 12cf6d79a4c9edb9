"""The storefront and the dashboard in Debian's Chromium against a real ``hotdeals serve``.

The storefront's deals are our ``<hot-deals>`` strip: its cards live in the element's shadow
root, which Playwright's locators pierce. Synchronisation is by Playwright's auto-waiting
locators and ``expect`` (which retry until their timeout), and by waiting for the very HTTP
response a page view or a click sends: never by sleeping. Counts are checked through the
management API, as an analyst's tool would see them, and whose impressions they are in the
database.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from web_helpers import (
    LiveServer,
    clicks,
    impressions,
    logged_customers,
    stats,
    stored_visitor_id,
)

from tests.factories import post_project, post_user
from tests.support.server import ADMIN_TOKEN

if TYPE_CHECKING:
    from playwright.sync_api import Page, Response, Route

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NewPage = Callable[..., "Page"]


@pytest.fixture
def expect() -> Any:
    """Playwright's ``expect``, imported only once the browser fixture made sure it exists."""
    from playwright.sync_api import expect

    # Long enough for the dashboard's next poll (every 5 s); expect returns as soon as it holds.
    expect.set_options(timeout=15_000)
    return expect


def unique(name: str) -> str:
    return f"{name} {uuid.uuid4().hex[:6]}"


CARDS = "hot-deals li[data-bandit-id]"
# The element that has the keyboard focus, inside the strip's shadow root if it is there.
FOCUSED = """() => {
  let element = document.activeElement;
  while (element && element.shadowRoot && element.shadowRoot.activeElement) {
    element = element.shadowRoot.activeElement;
  }
  return element;
}"""


def is_rank(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/rank")


def is_click(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/api/clicks")


def is_purchase(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/api/purchases")


def enter_as_guest(page: Page, live: LiveServer, project_id: int) -> list[dict[str, Any]]:
    """Continue as a guest on the campaign's page; returns the deals its strip was given."""
    page.goto(live.url(f"/?project={project_id}"))
    with page.expect_response(is_rank) as ranked:
        page.get_by_role("button", name="Continue as guest").click()
    page.locator(CARDS).first.wait_for()
    assert ranked.value.status == 200
    deals: list[dict[str, Any]] = ranked.value.json()["deals"]
    return deals


def customer_of(page: Page) -> int:
    """The signed-in customer, from the browser's customer cookie (``<id>.<signature>``)."""
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "hd_customer"]
    return int(cookie["value"].split(".")[0])


def admin_sign_in(page: Page, live: LiveServer, token: str = ADMIN_TOKEN) -> None:
    page.goto(live.url("/admin"))
    page.get_by_label("Admin token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def chart_data(page: Page, chart_id: str) -> list[dict[str, Any]]:
    """The traces Plotly holds on a chart element (``element.data``)."""
    traces: list[dict[str, Any]] = page.locator(f"#{chart_id}").evaluate(
        "element => (element.data || []).map(t => ({name: t.name, x: t.x, y: t.y}))"
    )
    return traces


def wait_for_refresh(page: Page, expect: Any) -> None:
    """Until the page has applied at least one answer of its data.json."""
    refreshed = re.compile(r"^[1-9]\d*$")
    expect(page.locator("#project-dashboard")).to_have_attribute("data-refreshes", refreshed)


# Storefront ------------------------------------------------------------------------------


def test_the_storefront_shows_the_projects_slots_of_deals(
    live_server: LiveServer, new_page: NewPage, expect: Any
) -> None:
    project = post_project(live_server.api, deals=5, slots=3)
    page = new_page()
    given = enter_as_guest(page, live_server, project["project_id"])
    cards = page.locator(CARDS)
    expect(cards).to_have_count(3)
    names = {b["bandit_name"] for b in project["bandits"]}
    shown = [cards.nth(i).get_by_role("heading").inner_text() for i in range(3)]
    assert shown == [deal["bandit_name"] for deal in given]  # in the ranking's order
    assert set(shown) <= names
    assert len(set(shown)) == 3
    expect(cards.first.locator("[part=price]")).to_have_text("€1.99")
    expect(cards.first.locator("[part=description]")).to_have_text(re.compile(r"^Offer number"))
    expect(page.get_by_text("Shopping as a guest")).to_be_visible()
    # The page's heading shows; the strip's own names its region but is not drawn twice.
    expect(page.get_by_role("heading", name="Hot Deals", exact=False)).to_have_count(1)
    expect(page.get_by_role("region", name="Hot Deals")).to_be_visible()
    expect(page.locator(".strip-fallback")).to_be_hidden()
    assert impressions(live_server.api, project["project_id"]) == 3
    assert logged_customers(live_server.engine, [d["transaction_id"] for d in given]) == {
        customer_of(page)
    }


def test_add_to_basket_is_counted_once(
    live_server: LiveServer, new_page: NewPage, expect: Any
) -> None:
    project = post_project(live_server.api, deals=3)
    page = new_page()
    enter_as_guest(page, live_server, project["project_id"])
    card = page.locator(CARDS).first
    bandit_id = int(card.get_attribute("data-bandit-id") or 0)
    button = card.locator("[part~=cta]")  # beside the storefront's "Buy now"
    expect(button).to_have_text("Add to basket")
    with page.expect_response(is_click) as answer:
        button.click()
    assert answer.value.status == 200
    assert answer.value.json()["bandit_id"] == bandit_id
    expect(button).to_have_text("✓ Added")
    expect(page.get_by_role("status")).to_contain_text("added to your basket")
    assert stats(live_server.api, project["project_id"])[bandit_id]["clicks"] == 1
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url))
    button.click(force=True)  # pressed again: aria-disabled, the strip sends nothing
    expect(button).to_have_text("✓ Added")
    assert [url for url in sent if "/api/clicks" in url] == []
    assert clicks(live_server.api, project["project_id"]) == 1


def test_buy_on_the_storefront_shows_the_purchase_and_revenue_on_the_dashboard(
    live_server: LiveServer, new_page: NewPage, expect: Any
) -> None:
    """The issue's acceptance: a shopper buys a deal at its price from the storefront (on a
    phone), and the analyst's deal table then shows that deal's purchase and revenue."""
    project = post_project(live_server.api, deals=3, price="2.49")
    pid = project["project_id"]
    admin = new_page()
    admin_sign_in(admin, live_server)
    admin.goto(live_server.url(f"/admin/projects/{pid}"))
    headings = admin.locator("#arm-table thead th")
    expect(headings.first).to_have_text("Deal")
    assert "Purchases" not in headings.all_inner_texts()  # no purchase yet: no such columns

    page = new_page(375)
    enter_as_guest(page, live_server, pid)
    card = page.locator(CARDS).first
    bandit_id = int(card.get_attribute("data-bandit-id") or 0)
    expect(card.get_by_role("button")).to_have_text(["Add to basket", "Buy now"])
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    card_box = card.bounding_box()
    assert card_box is not None
    for button in card.get_by_role("button").all():  # both buttons inside their card
        box = button.bounding_box()
        assert box is not None
        assert card_box["x"] <= box["x"]
        assert box["x"] + box["width"] <= card_box["x"] + card_box["width"]
    buy = card.locator("[part~=buy]")
    with page.expect_response(is_purchase) as bought:
        buy.click()
    assert bought.value.status == 200
    assert bought.value.request.post_data_json["value"] == "2.49"
    expect(buy).to_have_text("✓ Bought")
    expect(page.get_by_role("status")).to_contain_text("bought")
    figures = stats(live_server.api, pid)[bandit_id]
    assert (figures["clicks"], figures["purchases"], figures["purchase_value"]) == (1, 1, 2.49)

    admin.reload()
    expect(headings).to_contain_text(["Purchases", "Conversion", "Revenue / impression"])
    row = admin.locator(f'#arm-table tr[data-bandit-id="{bandit_id}"]')
    expect(row.locator('[data-field="purchases"]')).to_have_text("1")
    expect(row.locator('[data-field="conversion"]')).to_have_text(re.compile(r"^\d+\.\d+%$"))
    revenue = row.locator('[data-field="revenue_per_impression"]')
    expect(revenue).to_have_text(re.compile(r"^\d+\.\d{4}$"))
    assert float(revenue.inner_text()) > 0
    purchases = admin.locator('#arm-table tbody [data-field="purchases"]').all_inner_texts()
    assert sorted(purchases) == ["0", "0", "1"]  # the other deals: none


def test_reloading_asks_for_a_new_ranking_for_the_same_customer(
    live_server: LiveServer, new_page: NewPage, expect: Any
) -> None:
    project = post_project(live_server.api, deals=4, slots=2)
    page = new_page()
    first = enter_as_guest(page, live_server, project["project_id"])
    strip = page.locator("hot-deals")
    visitor_id = strip.get_attribute("visitor-id")
    with page.expect_response(is_rank) as ranked:
        page.reload()
    expect(page.locator(CARDS)).to_have_count(2)
    second = ranked.value.json()["deals"]
    assert strip.get_attribute("visitor-id") == visitor_id
    assert {d["transaction_id"] for d in first}.isdisjoint(d["transaction_id"] for d in second)
    assert impressions(live_server.api, project["project_id"]) == 4
    ids = [d["transaction_id"] for d in first + second]
    assert logged_customers(live_server.engine, ids) == {customer_of(page)}


def test_a_signed_in_customer_is_greeted_with_what_they_typed_and_is_remembered(
    live_server: LiveServer, new_page: NewPage, expect: Any
) -> None:
    project = post_project(live_server.api, deals=3)
    email = f"zoe-{uuid.uuid4().hex[:8]}@example.com"
    page = new_page()
    page.goto(live_server.url(f"/?project={project['project_id']}"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Your name").fill("Zoe")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Hi, Zoe")).to_be_visible()
    expect(page.locator(CARDS)).to_have_count(3)
    assert email not in page.content()  # no personal data beyond the customer's own name
    with page.expect_response(is_click) as clicked:  # the strip says "Added" before the answer
        page.get_by_role("button", name="Add to basket").first.click()
    assert clicked.value.status == 200
    expect(page.get_by_text("✓ Added")).to_be_visible()
    assert clicks(live_server.api, project["project_id"]) == 1

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("hot-deals")).to_have_count(0)
    page.get_by_label("Email").fill(email.upper())  # an existing customer: no name needed
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Welcome back")).to_be_visible()  # no name typed, none shown
    assert "Zoe" not in page.content()
    users = live_server.api.get("/api/users", params={"limit": 500}).json()["items"]
    assert [u["name"] for u in users if u["email"] == email] == ["Zoe"]


def test_a_signed_in_customers_strip_ranks_for_that_very_customer(
    live_server: LiveServer, new_page: NewPage, expect: Any
) -> None:
    """Their visitor id is set on their first page view, kept in ``users`` and reused on the
    next ones, on another device too; every impression the strip logs is theirs."""
    project = post_project(live_server.api, deals=3)
    email = f"ann-{uuid.uuid4().hex[:8]}@example.com"
    customer = post_user(live_server.api, email, "Ann")
    assert stored_visitor_id(live_server.engine, customer) is None
    shown: list[int] = []
    visitor_ids: list[str | None] = []
    for _device in range(2):  # two browsers, one customer
        page = new_page()
        page.goto(live_server.url(f"/?project={project['project_id']}"))
        page.get_by_label("Email").fill(email)
        for view in range(2):  # signing in, then a reload
            with page.expect_response(is_rank) as ranked:
                if view == 0:
                    page.get_by_role("button", name="Sign in").click()
                else:
                    page.reload()
            assert ranked.value.status == 200
            shown += [d["transaction_id"] for d in ranked.value.json()["deals"]]
            visitor_ids.append(page.locator("hot-deals").get_attribute("visitor-id"))
        assert customer_of(page) == customer
    expect(page.locator(CARDS)).to_have_count(3)
    stored = stored_visitor_id(live_server.engine, customer)
    assert stored is not None
    assert visitor_ids == [stored] * 4
    assert len(set(shown)) == 12
    assert logged_customers(live_server.engine, shown) == {customer}


def test_the_storefront_works_with_the_keyboard_alone(
    live_server: LiveServer, new_page: NewPage, expect: Any
) -> None:
    project = post_project(live_server.api, deals=3)
    page = new_page()
    page.goto(live_server.url(f"/?project={project['project_id']}"))

    def tab_to(label: str) -> None:
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate(f"({FOCUSED})().textContent.trim()") == label:
                return
        raise AssertionError(f"Tab never reached {label!r}")

    def focus_outline() -> str:
        style: str = page.evaluate(f"getComputedStyle(({FOCUSED})()).outlineStyle")
        return style

    tab_to("Continue as guest")
    assert focus_outline() != "none"  # the focus is visible
    page.keyboard.press("Enter")
    expect(page.locator(CARDS)).to_have_count(3)
    tab_to("Add to basket")  # into the strip's shadow root, in the page's tab order
    assert focus_outline() != "none"
    with page.expect_response(is_click):
        page.keyboard.press("Enter")
    expect(page.locator("hot-deals li[data-added]")).to_have_count(1)
    assert page.evaluate(f"({FOCUSED})().getAttribute('aria-disabled')") == "true"
    assert page.evaluate(f"({FOCUSED})().textContent") == "✓ Added"  # the focus stayed
    assert clicks(live_server.api, project["project_id"]) == 1


def test_without_javascript_the_page_says_hot_deals_need_it(
    live_server: LiveServer, new_page: NewPage, expect: Any
) -> None:
    project = post_project(live_server.api, deals=3)
    page = new_page(javascript=False)
    page.goto(live_server.url(f"/?project={project['project_id']}"))
    page.get_by_role("button", name="Continue as guest").click()  # forms work without it
    expect(page.get_by_text("Shopping as a guest")).to_be_visible()
    # Playwright's text locators skip <noscript>; a CSS locator does not.
    expect(page.locator("noscript .notice-title")).to_have_text("Hot deals need JavaScript")
    expect(page.locator("noscript .notice-title")).to_be_visible()
    expect(page.locator(".strip-fallback")).to_be_hidden()
    assert impressions(live_server.api, project["project_id"]) == 0


def test_when_the_strip_draws_nothing_the_page_says_so(
    live_server: LiveServer, new_page: NewPage, expect: Any
) -> None:
    """Paused after the page was served and before its strip ranked: the strip's rank is
    refused (409), it draws nothing and the page shows its own notice in its place."""
    project = post_project(live_server.api, deals=3)
    pid = project["project_id"]
    page = new_page()
    page.goto(live_server.url(f"/?project={pid}"))

    def pause_first(route: Route) -> None:
        """Hold the real request while the campaign is paused, then send it on unchanged."""
        paused = live_server.api.patch(f"/api/projects/{pid}", json={"status": "paused"})
        assert paused.status_code == 200, paused.text
        route.continue_()

    page.route(re.compile(r"/api/projects/\d+/rank$"), pause_first)
    with page.expect_response(is_rank) as ranked:
        page.get_by_role("button", name="Continue as guest").click()
    assert ranked.value.status == 409
    expect(page.locator("hot-deals")).to_have_attribute("data-state", "failed")
    expect(page.get_by_text("These deals aren't available right now")).to_be_visible()
    expect(page.get_by_text("Picked for you this visit")).to_be_hidden()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()  # still usable
    assert impressions(live_server.api, pid) == 0


def test_the_pages_fit_a_phone_screen(
    live_server: LiveServer, new_page: NewPage, expect: Any
) -> None:
    project = post_project(live_server.api, deals=4)
    page = new_page(375)
    enter_as_guest(page, live_server, project["project_id"])
    expect(page.locator(CARDS)).to_have_count(3)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    admin_sign_in(page, live_server)
    page.goto(live_server.url(f"/admin/projects/{project['project_id']}"))
    wait_for_refresh(page, expect)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


# Dashboard -------------------------------------------------------------------------------


def test_the_admin_sign_in_refuses_a_wrong_token(
    live_server: LiveServer, new_page: NewPage, expect: Any
) -> None:
    page = new_page()
    admin_sign_in(page, live_server, token="not-the-token")
    expect(page.get_by_role("alert")).to_contain_text("not right")
    expect(page.get_by_label("Admin token")).to_be_visible()
    assert not [c for c in page.context.cookies() if c["name"] == "hd_admin"]
    page.get_by_label("Admin token").fill(ADMIN_TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Campaigns")).to_be_visible()
    (session,) = [c for c in page.context.cookies() if c["name"] == "hd_admin"]
    assert session["httpOnly"]
    assert session["sameSite"] == "Strict"
    assert ADMIN_TOKEN not in session["value"]


def test_creating_a_project_with_three_deals_from_the_form_lists_it(
    live_server: LiveServer, new_page: NewPage, expect: Any
) -> None:
    name = unique("Breakfast week")
    page = new_page()
    admin_sign_in(page, live_server)
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Deals", exact=True).fill(
        "Croissants 4 for 3 | 2.49 | 🥐\nOrange juice -20% | 1.79 | 🍊 | Freshly squeezed, 1 l\n"
        "Granola | 3.10"
    )
    page.get_by_role("button", name="Create campaign").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.locator("#arm-table tbody tr")).to_have_count(3)
    page.get_by_role("link", name="All campaigns").click()
    row = page.locator("#projects-table tbody tr").filter(has_text=name)
    expect(row).to_have_count(1)
    expect(row.locator('[data-field="deals"]')).to_have_text("3")
    expect(row.locator(".badge")).to_have_text("running")
    project_id = int(row.get_attribute("data-project-id") or 0)
    deals = live_server.api.get(f"/api/projects/{project_id}").json()["bandits"]
    assert [(d["bandit_name"], d["price"], d["emoji"]) for d in deals] == [
        ("Croissants 4 for 3", "2.49", "🥐"),
        ("Orange juice -20%", "1.79", "🍊"),
        ("Granola", "3.10", None),
    ]


def test_the_project_page_charts_render_the_figures(
    live_server: LiveServer, new_page: NewPage, expect: Any
) -> None:
    api = live_server.api
    project = post_project(api, deals=3, slots=3)
    pid = project["project_id"]
    customer = post_user(api, f"c-{uuid.uuid4().hex[:8]}@example.com")
    for round_ in range(4):
        shown = api.post(f"/api/projects/{pid}/rank", json={"customer_id": customer}).json()
        for deal in shown["deals"]:
            if deal["position"] == 1 or round_ == 0:
                assert api.post(f"/api/transactions/{deal['transaction_id']}/click").is_success
    expected = stats(api, pid)
    names = [b["bandit_name"] for b in project["bandits"]]

    page = new_page()
    admin_sign_in(page, live_server)
    page.goto(live_server.url(f"/admin/projects/{pid}"))
    wait_for_refresh(page, expect)

    ctr = chart_data(page, "chart-ctr")
    assert [t["name"] for t in ctr] == names
    for trace, bandit in zip(ctr, project["bandits"], strict=True):
        assert trace["x"][0] == pytest.approx(expected[bandit["bandit_id"]]["posterior_mean"])
    posterior = chart_data(page, "chart-posterior")
    assert [t["name"] for t in posterior] == names
    assert all(len(t["x"]) == len(t["y"]) > 100 for t in posterior)
    allocation = chart_data(page, "chart-allocation")
    assert [t["name"] for t in allocation] == names
    buckets = len(allocation[0]["x"])
    for i in range(buckets):
        assert sum(t["y"][i] for t in allocation) == pytest.approx(1.0, abs=1e-5)
    clicks_chart = chart_data(page, "chart-clicks")
    assert [t["name"] for t in clicks_chart] == names
    assert [sum(t["y"]) for t in clicks_chart] == [
        expected[b["bandit_id"]]["clicks"] for b in project["bandits"]
    ]
    first = project["bandits"][0]["bandit_id"]
    row = page.locator(f'#arm-table tr[data-bandit-id="{first}"]')
    expect(row.locator('[data-field="impressions"]')).to_have_text(
        str(expected[first]["impressions"])
    )


def test_the_project_page_refreshes_without_a_reload(
    live_server: LiveServer, new_page: NewPage, expect: Any
) -> None:
    api = live_server.api
    project = post_project(api, deals=2, slots=2)
    pid = project["project_id"]
    page = new_page()
    admin_sign_in(page, live_server)
    page.goto(live_server.url(f"/admin/projects/{pid}"))
    wait_for_refresh(page, expect)
    page.evaluate("window.stillTheSamePage = true")
    total = page.locator('[data-total="impressions"]')
    expect(total).to_have_text("0")

    customer = post_user(api, f"r-{uuid.uuid4().hex[:8]}@example.com")
    shown = api.post(f"/api/projects/{pid}/rank", json={"customer_id": customer}).json()
    api.post(f"/api/transactions/{shown['deals'][0]['transaction_id']}/click")

    expect(total).to_have_text("2")  # retried until the next poll lands
    expect(page.locator('[data-total="clicks"]')).to_have_text("1")
    assert page.evaluate("window.stillTheSamePage === true")
    clicks_chart = chart_data(page, "chart-clicks")
    assert sum(sum(t["y"]) for t in clicks_chart) == 1


def test_pause_shows_the_message_on_the_storefront(
    live_server: LiveServer, new_page: NewPage, expect: Any
) -> None:
    project = post_project(live_server.api, deals=3)
    pid = project["project_id"]
    admin = new_page()
    admin_sign_in(admin, live_server)
    admin.goto(live_server.url(f"/admin/projects/{pid}"))
    admin.get_by_role("button", name="Pause").click()
    expect(admin.get_by_text("Campaign paused")).to_be_visible()
    expect(admin.locator("#project-status .badge")).to_have_text("paused")

    shopper = new_page()
    shopper.goto(live_server.url(f"/?project={pid}"))
    shopper.get_by_role("button", name="Continue as guest").click()
    expect(shopper.get_by_text("These deals are paused — come back soon")).to_be_visible()
    expect(shopper.locator("hot-deals")).to_have_count(0)
    expect(shopper.get_by_role("button", name="Sign out")).to_be_visible()  # still usable

    admin.get_by_role("button", name="Resume").click()
    expect(admin.locator("#project-status .badge")).to_have_text("running")
    shopper.reload()
    expect(shopper.locator(CARDS)).to_have_count(3)
    assert impressions(live_server.api, pid) == 3


def test_deactivate_a_deal_and_end_with_the_winner(
    live_server: LiveServer, new_page: NewPage, expect: Any
) -> None:
    project = post_project(live_server.api, deals=3)
    pid = project["project_id"]
    off, winner = project["bandits"][0], project["bandits"][1]
    page = new_page()
    admin_sign_in(page, live_server)
    page.goto(live_server.url(f"/admin/projects/{pid}"))
    page.get_by_role("button", name=f"Deactivate {off['bandit_name']}").click()
    expect(page.get_by_text("Deal deactivated")).to_be_visible()
    expect(page.locator(f'#arm-table tr[data-bandit-id="{off["bandit_id"]}"]')).to_have_class(
        "inactive"
    )
    page.get_by_label("Winner").select_option(str(winner["bandit_id"]))
    page.get_by_role("button", name="End campaign").click()
    # The confirmation step: nothing has ended yet, and it says what the strip will do.
    expect(page.locator("#confirm-strip")).to_contain_text(
        f"The strip will roll out '{winner['bandit_name']}'"
    )
    assert live_server.api.get(f"/api/projects/{pid}").json()["status"] == "running"
    page.get_by_role("button", name=f"End and roll out {winner['bandit_name']}").click()
    expect(page.get_by_text(f"the winner is {winner['bandit_name']}")).to_be_visible()
    rollout = f"'{winner['bandit_name']}' in slot 1, then the other deals by posterior mean"
    expect(page.locator("#status-notice")).to_contain_text(
        f"Rolling out: the strip shows {rollout}"
    )
    expect(page.locator("#project-status .badge")).to_have_text("rollout")
    stored = live_server.api.get(f"/api/projects/{pid}").json()
    assert (stored["status"], stored["winner_bandit_id"]) == ("ended", winner["bandit_id"])
    assert stored["effective_status"] == "rollout"
    assert [b["active"] for b in stored["bandits"]] == [False, True, True]

    # What the page says is what the strip's rank call gets: the winner first.
    ranked = live_server.api.post(
        f"/api/projects/{pid}/rank", json={"visitor_id": uuid.uuid4().hex}
    )
    assert ranked.status_code == 200, ranked.text
    assert [d["bandit_id"] for d in ranked.json()["deals"]] == [
        winner["bandit_id"],
        project["bandits"][2]["bandit_id"],
    ]


def test_cancelling_the_confirmation_ends_nothing(
    live_server: LiveServer, new_page: NewPage, expect: Any
) -> None:
    project = post_project(live_server.api, deals=2)
    pid = project["project_id"]
    page = new_page()
    admin_sign_in(page, live_server)
    page.goto(live_server.url(f"/admin/projects/{pid}"))
    page.get_by_label("Winner").select_option("")
    page.get_by_role("button", name="End campaign").click()
    expect(page.locator("#confirm-strip")).to_contain_text("The strip will show nothing")
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator("#project-status .badge")).to_have_text("running")
    assert live_server.api.get(f"/api/projects/{pid}").json()["status"] == "running"


def test_the_decision_panel_refreshes_without_a_reload(
    live_server: LiveServer, new_page: NewPage, expect: Any
) -> None:
    api = live_server.api
    project = post_project(api, deals=["Figs", "Kiwis"], slots=1, min_impressions=20)
    pid = project["project_id"]
    figs, kiwis = (b["bandit_id"] for b in project["bandits"])
    page = new_page()
    admin_sign_in(page, live_server)
    page.goto(live_server.url(f"/admin/projects/{pid}"))
    wait_for_refresh(page, expect)
    page.evaluate("window.stillTheSamePage = true")
    panel = page.locator("#decision")
    expect(panel).to_have_attribute("data-state", "collecting")
    floor = panel.locator('tr[data-condition="leader_impressions"]')
    expect(floor).to_have_attribute("data-met", "false")
    expect(panel.locator('[data-decision="uplift"]')).to_have_text(
        "No impressions in the slots yet."
    )

    # Figs alone is shown and always clicked: 30 of 30 against Kiwis' untouched prior.
    assert api.patch(f"/api/bandits/{kiwis}", json={"active": False}).is_success
    customer = post_user(api, f"d-{uuid.uuid4().hex[:8]}@example.com")
    for _ in range(30):
        shown = api.post(f"/api/projects/{pid}/rank", json={"customer_id": customer, "k": 1})
        assert api.post(f"/api/transactions/{shown.json()['deals'][0]['transaction_id']}/click")
    assert api.patch(f"/api/bandits/{kiwis}", json={"active": True}).is_success
    assert stats(api, pid)[figs]["clicks"] == 30

    page.get_by_label("Time buckets").select_option("hour")  # refreshes at once, not in 5 s
    expect(panel).to_have_attribute("data-state", "winner")
    expect(panel.locator('[data-decision="state_label"]')).to_have_text("Winner found")
    expect(panel.locator('[data-decision="summary"]')).to_contain_text(
        "Winner: 'Figs' is best with probability"
    )
    expect(floor).to_have_attribute("data-met", "true")
    expect(floor.locator('[data-field="value"]')).to_have_text("30")
    expect(panel.locator('[data-decision="uplift"]')).to_contain_text("clicks vs an even split")
    assert page.evaluate("window.stillTheSamePage === true")
