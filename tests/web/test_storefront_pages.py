"""The storefront over HTTP: sign-in, guests, the strip it renders (and for whom), notices and
refusals. The strip's own ranking and clicking in a browser: ``test_browser.py``."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from web_helpers import (
    cookie_flags,
    cookie_header,
    csrf_of,
    impressions,
    logged_customers,
    rank_as_the_strip,
    stored_visitor_id,
    strip_of,
    visitor_token,
)

from hotdeals import __version__
from hotdeals.app import create_app
from hotdeals.config import get_settings
from hotdeals.web import security
from tests.factories import ADMIN, post_project, post_user

PAUSED = "These deals are paused — come back soon"


def enter_as_guest(client: TestClient, project_id: int | None = None) -> str:
    """Continue as a guest; returns the page that follows."""
    query = f"?project={project_id}" if project_id else ""
    csrf = visitor_token(client, f"/{query}")
    data = {"csrf": csrf, "project": str(project_id or "")}
    response = client.post("/guest", data=data)
    assert response.status_code == 200, response.text
    return response.text


def test_a_first_visit_offers_sign_in_and_guest_and_ranks_nothing(client: TestClient) -> None:
    project = post_project(client)
    response = client.get(f"/?project={project['project_id']}")
    assert response.status_code == 200
    page = response.text
    assert 'action="/signin"' in page
    assert 'action="/guest"' in page
    assert strip_of(page) is None
    assert "hot-deals.js" not in page
    assert impressions(client, project["project_id"]) == 0
    visitor = cookie_flags(cookie_header(response, security.VISITOR_COOKIE))
    assert "httponly" in visitor
    assert visitor["samesite"].lower() == "lax"


def test_a_guest_gets_the_strip_with_a_visitor_id_of_their_own(
    client: TestClient, engine: Engine
) -> None:
    project = post_project(client, deals=5, slots=3)
    pid = project["project_id"]
    csrf = visitor_token(client, f"/?project={pid}")
    response = client.post(
        "/guest", data={"csrf": csrf, "project": str(pid)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/?project={pid}"
    flags = cookie_flags(cookie_header(response, security.CUSTOMER_COOKIE))
    assert "httponly" in flags
    assert flags["samesite"].lower() == "lax"
    assert "secure" not in flags  # plain http here; https sets Secure (see the admin tests)

    page = client.get(response.headers["location"]).text
    customer = int(flags["value"].split(".")[0])
    visitor_id = stored_visitor_id(engine, customer)
    assert visitor_id is not None
    assert re.fullmatch(r"c-[A-Za-z0-9_-]{22}", visitor_id)
    strip = strip_of(page)
    assert strip == {
        "project": str(pid),
        "visitor-id": visitor_id,
        "slots": "3",
        "heading": "Hot Deals",
        "timeout-ms": "5000",
        "buy": "Buy now",
    }
    assert f'<script src="/embed/{__version__}/hot-deals.js" defer></script>' in page
    assert "Hot deals need JavaScript" in page  # in a <noscript>
    assert "Shopping as a guest" in page
    assert "guest.invalid" not in page
    assert impressions(client, pid) == 0  # the page ranks nothing: its strip does

    deals = rank_as_the_strip(client, page)
    assert len(deals) == 3
    assert logged_customers(engine, [d["transaction_id"] for d in deals]) == {customer}
    guest = client.get(f"/api/users/{customer}", headers=ADMIN).json()
    assert guest["name"] == "Guest"
    assert re.fullmatch(r"guest-[0-9a-f]{16}@guest\.invalid", guest["email"])
    assert client.get("/api/users", headers=ADMIN).json()["total"] == 1  # no visitor row


def test_page_views_rank_nothing_and_keep_the_customers_visitor_id(client: TestClient) -> None:
    project = post_project(client, deals=4, slots=2)
    first = strip_of(enter_as_guest(client, project["project_id"]))
    second = strip_of(client.get(f"/?project={project['project_id']}").text)
    assert first is not None
    assert second == first  # the strip's Idempotency-Key, drawn per page view, tells them apart
    assert impressions(client, project["project_id"]) == 0


def test_sign_in_creates_a_new_customer_and_finds_an_existing_one(client: TestClient) -> None:
    project = post_project(client)
    pid = project["project_id"]
    csrf = visitor_token(client)
    response = client.post(
        "/signin",
        data={"csrf": csrf, "email": "Zoe@Example.com ", "name": "Zoe", "project": str(pid)},
    )
    assert response.status_code == 200
    assert "Hi, Zoe" in response.text
    assert "zoe@example.com" not in response.text.lower()
    strip = strip_of(response.text)
    assert strip is not None
    assert (strip["project"], strip["slots"]) == (str(pid), "3")
    users = client.get("/api/users", headers=ADMIN).json()["items"]
    assert [(u["email"], u["name"]) for u in users] == [("zoe@example.com", "Zoe")]

    client.cookies.clear()
    csrf = visitor_token(client)
    again = client.post("/signin", data={"csrf": csrf, "email": "zoe@example.com", "name": ""})
    assert "Welcome back" in again.text  # what was typed: no name, so no name shown
    assert "Zoe" not in again.text
    assert strip_of(again.text) == strip  # the same customer, the same visitor id
    assert client.get("/api/users", headers=ADMIN).json()["total"] == 1


def test_the_strip_of_a_signed_in_customer_ranks_for_that_customer(
    client: TestClient, engine: Engine
) -> None:
    """Two customers, each with a visitor id of their own, each ranked as themselves."""
    project = post_project(client, deals=3)
    pid = project["project_id"]
    ann, bob = post_user(client, "ann@example.com", "Ann"), post_user(client, "bob@example.com")
    pages = {}
    for customer, email in [(ann, "ann@example.com"), (bob, "bob@example.com")]:
        client.cookies.clear()
        data = {"csrf": visitor_token(client), "email": email, "project": str(pid)}
        pages[customer] = client.post("/signin", data=data).text
    for customer, page in pages.items():
        strip = strip_of(page)
        assert strip is not None
        assert strip["visitor-id"] == stored_visitor_id(engine, customer)
        deals = rank_as_the_strip(client, page)
        assert logged_customers(engine, [d["transaction_id"] for d in deals]) == {customer}
    assert stored_visitor_id(engine, ann) != stored_visitor_id(engine, bob)
    assert impressions(client, pid) == 6


def test_sign_in_by_email_never_shows_data_the_visitor_did_not_type(client: TestClient) -> None:
    """The demo has no passwords: typing someone's email must not reveal their name."""
    post_project(client)
    csrf = visitor_token(client)
    client.post("/signin", data={"csrf": csrf, "email": "zoe@example.com", "name": "Zoe Quinn"})
    for typed, greeting in [("", "Welcome back"), ("Mallory", "Hi, Mallory")]:
        client.cookies.clear()
        csrf = visitor_token(client)
        data = {"csrf": csrf, "email": "zoe@example.com", "name": typed}
        page = client.post("/signin", data=data)
        assert page.status_code == 200
        assert greeting in page.text
        assert "Zoe" not in page.text
        assert "Quinn" not in page.text
        assert "zoe@example.com" not in page.text.lower()
        assert "Zoe" not in client.get("/").text  # nor on the next page view
    users = client.get("/api/users", headers=ADMIN).json()["items"]
    assert [u["name"] for u in users] == ["Zoe Quinn"]  # the stored name is unchanged


def test_a_greeting_cookie_greets_only_the_customer_it_was_signed_for(client: TestClient) -> None:
    post_project(client)
    csrf = visitor_token(client)
    client.post("/signin", data={"csrf": csrf, "email": "ann@example.com", "name": "Ann"})
    greeting = client.cookies.get("hd_greeting")
    assert greeting
    client.cookies.clear()
    csrf = visitor_token(client)
    client.post("/signin", data={"csrf": csrf, "email": "bob@example.com", "name": "Bob"})
    client.cookies.set("hd_greeting", greeting)  # Ann's greeting beside Bob's customer cookie
    page = client.get("/").text
    assert "Ann" not in page
    assert "Welcome back" in page
    client.cookies.set("hd_greeting", "forged.value")
    assert "Welcome back" in client.get("/").text


@pytest.mark.parametrize(
    ("email", "name", "message"),
    [
        ("", "Ann", "Please enter your email address."),
        ("not-an-email", "Ann", "Email: value is not a valid email address"),
        ("new@example.com", "  ", "Please tell us your name"),
        ("new@example.com", "x" * 201, "Name: String should have at most 200 characters"),
    ],
)
def test_a_sign_in_problem_is_explained_on_the_page(
    client: TestClient, email: str, name: str, message: str
) -> None:
    csrf = visitor_token(client)
    response = client.post("/signin", data={"csrf": csrf, "email": email, "name": name})
    assert response.status_code == 400
    assert message in response.text
    assert 'action="/signin"' in response.text
    assert client.get("/api/users", headers=ADMIN).json()["total"] == 0


def test_sign_out_forgets_the_customer(client: TestClient) -> None:
    post_project(client)
    page = enter_as_guest(client)
    response = client.post("/signout", data={"csrf": csrf_of(page)}, follow_redirects=False)
    assert response.status_code == 303
    assert 'hd_customer=""' in cookie_header(response, security.CUSTOMER_COOKIE)
    assert "Max-Age=0" in cookie_header(response, security.CUSTOMER_COOKIE)


@pytest.mark.parametrize("value", ["1.forged", "1", "abc.def", "", "1." + "A" * 43])
def test_a_forged_customer_cookie_is_ignored_and_dropped(client: TestClient, value: str) -> None:
    project = post_project(client)
    post_user(client, "victim@example.com", "Victoria")
    client.cookies.set(security.CUSTOMER_COOKIE, value)
    response = client.get(f"/?project={project['project_id']}")
    assert response.status_code == 200
    assert "Victoria" not in response.text
    assert 'action="/guest"' in response.text
    assert strip_of(response.text) is None


def test_a_signed_cookie_of_a_vanished_customer_signs_out(client: TestClient) -> None:
    post_project(client)
    key = security.signing_key(client.app.state.hotdeals)
    client.cookies.set(security.CUSTOMER_COOKIE, security.customer_cookie(key, 4242))
    response = client.get("/")
    assert 'action="/guest"' in response.text
    assert "Max-Age=0" in cookie_header(response, security.CUSTOMER_COOKIE)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_server_side_basket_is_gone(client: TestClient, method: str) -> None:
    """ "Add to basket" is the strip's, through ``POST /api/clicks``: no page route clicks."""
    project = post_project(client)
    page = enter_as_guest(client, project["project_id"])
    response = client.request(method, "/basket", data={"csrf": csrf_of(page), "token": "x"})
    assert response.status_code in (404, 405)
    assert "/basket" not in page
    assert "click_token" not in page


@pytest.mark.parametrize("path", ["/guest", "/signin", "/signout"])
def test_a_form_without_its_token_is_refused(client: TestClient, path: str) -> None:
    project = post_project(client)
    enter_as_guest(client, project["project_id"])
    data = {"email": "eve@example.com", "name": "Eve", "project": str(project["project_id"])}
    for token in ("", "forged", security.csrf_token(b"another key", "nonce")):
        response = client.post(path, data={**data, "csrf": token})
        assert response.status_code == 403
        assert "This form has expired" in response.text
    assert client.get("/api/users", headers=ADMIN).json()["total"] == 1  # the guest only
    assert strip_of(client.get(f"/?project={project['project_id']}").text)  # still signed in


def test_a_form_from_a_browser_without_our_cookie_is_refused(client: TestClient) -> None:
    csrf = visitor_token(client)
    client.cookies.clear()  # a cross-site form: right-looking token, no cookie of ours
    assert client.post("/guest", data={"csrf": csrf}).status_code == 403


def test_a_shop_form_with_missing_fields_reads_them_as_empty(client: TestClient) -> None:
    """A form is text: a missing field is an empty one, never a 422."""
    post_project(client)
    csrf = visitor_token(client)
    no_email = client.post("/signin", data={"csrf": csrf})
    assert no_email.status_code == 400
    assert "Please enter your email address." in no_email.text
    no_name = client.post("/signin", data={"csrf": csrf, "email": "new@example.com"})
    assert no_name.status_code == 400
    assert "Welcome! Please tell us your name so we can create your account." in no_name.text
    assert 'value="new@example.com"' in no_name.text
    guest = client.post("/guest", data={"csrf": csrf}, follow_redirects=False)
    assert (guest.status_code, guest.headers["location"]) == (303, "/")
    assert client.get("/api/users", headers=ADMIN).json()["total"] == 1  # the guest only


def test_a_shop_form_with_unknown_fields_ignores_them(client: TestClient) -> None:
    victim = post_user(client, "victim@example.com", "Victoria")
    csrf = visitor_token(client)
    data = {"csrf": csrf, "customer_id": str(victim), "email": "victim@example.com"}
    response = client.post("/guest", data=data, follow_redirects=False)
    assert response.status_code == 303
    page = client.get("/").text
    assert "Shopping as a guest" in page
    assert "Victoria" not in page


@pytest.mark.parametrize(
    ("status", "message"),
    [("paused", PAUSED), ("ended", "This week&#39;s hot deals have ended")],
)
def test_a_stopped_campaign_shows_a_message_and_the_page_stays_usable(
    client: TestClient, status: str, message: str
) -> None:
    project = post_project(client)
    pid = project["project_id"]
    client.patch(f"/api/projects/{pid}", json={"status": status}, headers=ADMIN)
    page = enter_as_guest(client, pid)
    assert message in page
    assert strip_of(page) is None
    assert "hot-deals.js" not in page
    assert 'action="/signout"' in page


def test_a_campaign_ended_with_a_winner_keeps_its_strip_and_is_the_default_one(
    client: TestClient,
) -> None:
    older = post_project(client, deals=2, project_name="Older")
    project = post_project(client, deals=2, project_name="Rolled out")
    pid, winner = project["project_id"], project["bandits"][1]["bandit_id"]
    ended = client.patch(
        f"/api/projects/{pid}", json={"status": "ended", "winner_bandit_id": winner}, headers=ADMIN
    )
    assert ended.json()["effective_status"] == "rollout"
    strip = strip_of(enter_as_guest(client, pid))
    assert strip is not None
    assert strip["project"] == str(pid)
    default = strip_of(client.get("/").text)  # newest running or rolling out, not the older one
    assert default is not None
    assert (default["project"], older["project_id"] < pid) == (str(pid), True)


def test_a_campaign_that_has_not_started_says_its_deals_are_coming(client: TestClient) -> None:
    pid = post_project(client, starts_at="2999-01-01T00:00:00Z")["project_id"]
    page = enter_as_guest(client, pid)
    assert "New hot deals are on their way" in page
    assert strip_of(page) is None


def test_a_campaign_without_active_deals_says_so(client: TestClient) -> None:
    project = post_project(client, deals=1)
    pid = project["project_id"]
    client.patch(
        f"/api/bandits/{project['bandits'][0]['bandit_id']}",
        json={"active": False},
        headers=ADMIN,
    )
    page = enter_as_guest(client, pid)
    assert "No hot deals right now" in page
    assert strip_of(page) is None
    empty = post_project(client, deals=0)
    assert "No hot deals right now" in client.get(f"/?project={empty['project_id']}").text


@pytest.mark.parametrize("requested", ["999", "abc", "0", "-3", str(2**31), "1e3"])
def test_an_unknown_project_is_a_friendly_404(client: TestClient, requested: str) -> None:
    response = client.get(f"/?project={requested}")
    assert response.status_code == 404
    assert "We couldn&#39;t find those deals" in response.text
    assert 'action="/guest"' in response.text
    assert strip_of(response.text) is None


def test_no_campaign_at_all_is_a_friendly_page(client: TestClient) -> None:
    enter_as_guest(client)
    response = client.get("/")
    assert response.status_code == 200
    assert "No hot deals right now" in response.text
    assert strip_of(response.text) is None


def test_without_a_project_the_newest_running_one_is_shown(client: TestClient) -> None:
    older = post_project(client, deals=2, project_name="Older")
    newer = post_project(client, deals=2, project_name="Newer")
    client.patch(f"/api/projects/{newer['project_id']}", json={"status": "paused"}, headers=ADMIN)
    strip = strip_of(enter_as_guest(client))
    assert strip is not None
    assert (strip["project"], strip["slots"]) == (str(older["project_id"]), "3")


def test_the_configured_storefront_project_wins(
    configured: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TestClient(create_app()) as setup:
        chosen = post_project(setup, deals=2, project_name="Chosen")
        post_project(setup, deals=2, project_name="Newest")
    monkeypatch.setenv("HOTDEALS_STOREFRONT_PROJECT", str(chosen["project_id"]))
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        strip = strip_of(enter_as_guest(client))
        assert strip is not None
        assert strip["project"] == str(chosen["project_id"])


def test_pages_carry_the_security_headers_and_allow_the_strip(client: TestClient) -> None:
    post_project(client)
    response = client.post("/guest", data={"csrf": visitor_token(client)})
    directives = response.headers["content-security-policy"].split("; ")
    policy = {name: value for name, _, value in (d.partition(" ") for d in directives)}
    assert policy["script-src"] == "'self'"  # the strip's script is ours, same origin ...
    assert policy["connect-src"] == "'self'"  # ... and so are its rank and click calls
    assert "'unsafe-inline'" in policy["style-src"]  # its shadow root's <style>
    assert policy["frame-ancestors"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert "<script>" not in response.text  # no inline script: the policy would block it
    script = re.search(r'<script src="([^"]+)"', response.text)
    assert script
    assert script[1] == f"/embed/{__version__}/hot-deals.js"
    assert client.get(script[1]).status_code == 200
