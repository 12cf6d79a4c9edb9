"""The storefront and the dashboard in Debian's Chromium against a real ``hotdeals serve``.

Synchronisation is by Playwright's auto-waiting locators and ``expect`` (which retry until their
timeout), and by waiting for the very HTTP response a click sends: never by sleeping. Counts
are checked through the management API, as an analyst's tool would see them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from web_helpers import LiveServer, clicks, impressions, stats

from tests.factories import post_project, post_user
from tests.support.server import ADMIN_TOKEN

if TYPE_CHECKING:
    from playwright.sync_api import Page

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


def enter_as_guest(page: Page, live: LiveServer, project_id: int) -> None:
    page.goto(live.url(f"/?project={project_id}"))
    page.get_by_role("button", name="Continue as guest").click()
    page.locator(".deal-card").first.wait_for()


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
    enter_as_guest(page, live_server, project["project_id"])
    cards = page.locator(".deal-card")
    expect(cards).to_have_count(3)
    names = {b["bandit_name"] for b in project["bandits"]}
    shown = [cards.nth(i).locator(".deal-name").inner_text() for i in range(3)]
    assert set(shown) <= names
    assert len(set(shown)) == 3
    expect(cards.first.locator(".deal-price")).to_have_text("€1.99")
    expect(page.get_by_text("Shopping as a guest")).to_be_visible()
    assert impressions(live_server.api, project["project_id"]) == 3


def test_add_to_basket_is_counted(live_server: LiveServer, new_page: NewPage, expect: Any) -> None:
    project = post_project(live_server.api, deals=3)
    page = new_page()
    enter_as_guest(page, live_server, project["project_id"])
    card = page.locator(".deal-card").first
    bandit_id = int(card.get_attribute("data-bandit-id") or 0)
    button = card.locator(".add-button")
    expect(button).to_have_text("Add to basket")
    with page.expect_response(re.compile(r"/api/clicks$")) as answer:
        button.click()
    assert answer.value.status == 200
    expect(button).to_have_text("✓ Added")
    expect(page.locator("#basket-status")).to_contain_text("is in your basket")
    assert stats(live_server.api, project["project_id"])[bandit_id]["clicks"] == 1
    button.click(force=True)  # pressed again: aria-disabled, the script sends nothing
    expect(button).to_have_text("✓ Added")
    assert clicks(live_server.api, project["project_id"]) == 1


def test_reloading_asks_for_a_new_ranking(
    live_server: LiveServer, new_page: NewPage, expect: Any
) -> None:
    project = post_project(live_server.api, deals=4, slots=2)
    page = new_page()
    enter_as_guest(page, live_server, project["project_id"])
    forms = page.locator("form.basket-form")
    first = {forms.nth(i).get_attribute("data-click-token") for i in range(2)}
    page.reload()
    expect(forms).to_have_count(2)
    second = {forms.nth(i).get_attribute("data-click-token") for i in range(2)}
    assert first.isdisjoint(second)
    assert impressions(live_server.api, project["project_id"]) == 4


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
    expect(page.locator(".deal-card")).to_have_count(3)
    assert email not in page.content()  # no personal data beyond the customer's own name
    page.get_by_role("button", name="Add to basket").first.click()
    expect(page.get_by_text("✓ Added")).to_be_visible()
    assert clicks(live_server.api, project["project_id"]) == 1

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(email.upper())  # an existing customer: no name needed
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Welcome back")).to_be_visible()  # no name typed, none shown
    assert "Zoe" not in page.content()
    users = live_server.api.get("/api/users", params={"limit": 500}).json()["items"]
    assert [u["name"] for u in users if u["email"] == email] == ["Zoe"]


def test_the_storefront_works_with_the_keyboard_alone(
    live_server: LiveServer, new_page: NewPage, expect: Any
) -> None:
    project = post_project(live_server.api, deals=3)
    page = new_page()
    page.goto(live_server.url(f"/?project={project['project_id']}"))

    def tab_to(label: str) -> None:
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.textContent.trim()") == label:
                return
        raise AssertionError(f"Tab never reached {label!r}")

    tab_to("Continue as guest")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus is visible
    page.keyboard.press("Enter")
    expect(page.locator(".deal-card")).to_have_count(3)
    tab_to("Add to basket")
    with page.expect_response(re.compile(r"/api/clicks$")):
        page.keyboard.press("Enter")
    expect(page.locator(".add-button.is-added")).to_have_count(1)
    assert page.evaluate("document.activeElement.classList.contains('add-button')")
    assert clicks(live_server.api, project["project_id"]) == 1


def test_without_javascript_add_to_basket_posts_the_form(
    live_server: LiveServer, new_page: NewPage, expect: Any
) -> None:
    project = post_project(live_server.api, deals=3)
    page = new_page(javascript=False)
    enter_as_guest(page, live_server, project["project_id"])
    name = page.locator(".deal-name").first.inner_text()
    page.get_by_role("button", name="Add to basket").first.click()
    expect(page.get_by_text(f"{name} is in your basket.")).to_be_visible()
    assert clicks(live_server.api, project["project_id"]) == 1


def test_the_pages_fit_a_phone_screen(
    live_server: LiveServer, new_page: NewPage, expect: Any
) -> None:
    project = post_project(live_server.api, deals=4)
    page = new_page(375)
    enter_as_guest(page, live_server, project["project_id"])
    expect(page.locator(".deal-card")).to_have_count(3)
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
    expect(shopper.locator(".deal-card")).to_have_count(0)
    expect(shopper.get_by_role("button", name="Sign out")).to_be_visible()  # still usable

    admin.get_by_role("button", name="Resume").click()
    expect(admin.locator("#project-status .badge")).to_have_text("running")
    shopper.reload()
    expect(shopper.locator(".deal-card")).to_have_count(3)
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
    expect(page.get_by_text(f"the winner is {winner['bandit_name']}")).to_be_visible()
    stored = live_server.api.get(f"/api/projects/{pid}").json()
    assert (stored["status"], stored["winner_bandit_id"]) == ("ended", winner["bandit_id"])
    assert [b["active"] for b in stored["bandits"]] == [False, True, True]
