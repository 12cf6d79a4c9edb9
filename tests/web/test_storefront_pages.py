"""The storefront without JavaScript, over HTTP: sign-in, guests, ranking, clicks and refusals."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from web_helpers import (
    click_tokens,
    clicks,
    cookie_flags,
    cookie_header,
    csrf_of,
    impressions,
    transaction_ids,
    visitor_token,
)

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
    assert transaction_ids(page) == []
    assert impressions(client, project["project_id"]) == 0
    visitor = cookie_flags(cookie_header(response, security.VISITOR_COOKIE))
    assert "httponly" in visitor
    assert visitor["samesite"].lower() == "lax"


def test_a_guest_sees_the_projects_slots_of_deals(client: TestClient) -> None:
    project = post_project(client, deals=5, slots=3)
    csrf = visitor_token(client, f"/?project={project['project_id']}")
    response = client.post(
        "/guest",
        data={"csrf": csrf, "project": str(project["project_id"])},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/?project={project['project_id']}"
    flags = cookie_flags(cookie_header(response, security.CUSTOMER_COOKIE))
    assert "httponly" in flags
    assert flags["samesite"].lower() == "lax"
    assert "secure" not in flags  # plain http here; https sets Secure (see the admin tests)

    page = client.get(response.headers["location"]).text
    assert len(transaction_ids(page)) == 3
    assert page.count('class="deal-card"') == 3
    assert "Shopping as a guest" in page
    assert "guest.invalid" not in page
    assert impressions(client, project["project_id"]) == 3
    customer = int(flags["value"].split(".")[0])
    guest = client.get(f"/api/users/{customer}", headers=ADMIN).json()
    assert guest["name"] == "Guest"
    assert re.fullmatch(r"guest-[0-9a-f]{16}@guest\.invalid", guest["email"])


def test_each_page_view_is_a_new_ranking(client: TestClient) -> None:
    project = post_project(client, deals=4, slots=2)
    first = transaction_ids(enter_as_guest(client, project["project_id"]))
    second = transaction_ids(client.get(f"/?project={project['project_id']}").text)
    assert len(first) == len(second) == 2
    assert set(first).isdisjoint(second)
    assert impressions(client, project["project_id"]) == 4


def test_the_deal_shows_its_picture_name_price_and_description(client: TestClient) -> None:
    body = {
        "project_name": "Pictures",
        "slots": 3,
        "bandits": [
            {"bandit_name": "Strawberries", "price": "3.49", "emoji": "🍓", "description": "Dutch"},
            {"bandit_name": "Rye bread", "image_url": "https://img.example/rye.jpg"},
            {"bandit_name": "Greek yoghurt", "price": "1200.5"},
        ],
    }
    project = client.post("/api/projects", json=body, headers=ADMIN).json()
    page = enter_as_guest(client, project["project_id"])
    assert "🍓" in page
    assert "€3.49" in page
    assert "Dutch" in page
    assert "€1,200.50" in page
    assert 'src="https://img.example/rye.jpg"' in page
    assert '<text class="tag-text"' in page  # the drawn price tag ...
    assert ">GY</text>" in page  # ... with the deal's initials


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
    assert len(transaction_ids(response.text)) == 3
    users = client.get("/api/users", headers=ADMIN).json()["items"]
    assert [(u["email"], u["name"]) for u in users] == [("zoe@example.com", "Zoe")]

    client.cookies.clear()
    csrf = visitor_token(client)
    again = client.post("/signin", data={"csrf": csrf, "email": "zoe@example.com", "name": ""})
    assert "Welcome back" in again.text  # what was typed: no name, so no name shown
    assert "Zoe" not in again.text
    assert client.get("/api/users", headers=ADMIN).json()["total"] == 1


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
    assert impressions(client, project["project_id"]) == 0


def test_a_signed_cookie_of_a_vanished_customer_signs_out(client: TestClient) -> None:
    post_project(client)
    key = security.signing_key(client.app.state.hotdeals)
    client.cookies.set(security.CUSTOMER_COOKIE, security.customer_cookie(key, 4242))
    response = client.get("/")
    assert 'action="/guest"' in response.text
    assert "Max-Age=0" in cookie_header(response, security.CUSTOMER_COOKIE)


def test_add_to_basket_without_javascript_counts_the_click_once(client: TestClient) -> None:
    project = post_project(client, deals=3)
    pid = project["project_id"]
    page = enter_as_guest(client, pid)
    data = {"csrf": csrf_of(page), "token": click_tokens(page)[0], "project": str(pid)}
    response = client.post("/basket", data=data, follow_redirects=False)
    assert response.status_code == 303
    bandit = re.search(r"added=(\d+)", response.headers["location"])
    assert bandit
    assert response.headers["location"].startswith(f"/?project={pid}&")
    follow = client.get(response.headers["location"]).text
    name = next(b["bandit_name"] for b in project["bandits"] if b["bandit_id"] == int(bandit[1]))
    assert f"{name} is in your basket." in follow
    client.post("/basket", data=data)
    assert clicks(client, pid) == 1


@pytest.mark.parametrize("token", ["999999", "abc", "", "edited", "unknown"])
def test_add_to_basket_with_a_token_not_ours_or_unknown_says_so(
    client: TestClient, token: str
) -> None:
    post_project(client)
    page = enter_as_guest(client)
    genuine = click_tokens(page)[0]
    sent = {
        "edited": genuine[:-1] + ("A" if genuine[-1] != "A" else "B"),
        # Signed by this app for an impression that does not exist.
        "unknown": client.app.state.hotdeals.click_tokens.issue(999_999, 1),  # type: ignore[attr-defined]
    }.get(token, token)
    response = client.post("/basket", data={"csrf": csrf_of(page), "token": sent})
    assert response.status_code == 200
    assert "We couldn&#39;t add that to your basket" in response.text


@pytest.mark.parametrize("path", ["/guest", "/signin", "/basket", "/signout"])
def test_a_form_without_its_token_is_refused(client: TestClient, path: str) -> None:
    project = post_project(client)
    page = enter_as_guest(client, project["project_id"])
    data = {"email": "eve@example.com", "name": "Eve", "token": click_tokens(page)[0]}
    for token in ("", "forged", security.csrf_token(b"another key", "nonce")):
        response = client.post(path, data={**data, "csrf": token})
        assert response.status_code == 403
        assert "This form has expired" in response.text
    assert clicks(client, project["project_id"]) == 0
    assert client.get("/api/users", headers=ADMIN).json()["total"] == 1  # the guest only


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
    basket = client.post("/basket", data={"csrf": csrf}, follow_redirects=False)
    assert basket.headers["location"] == "/?problem=basket"
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
    assert transaction_ids(page) == []
    assert 'action="/signout"' in page
    assert impressions(client, pid) == 0


def test_a_campaign_without_active_deals_says_so(client: TestClient) -> None:
    project = post_project(client, deals=1)
    pid = project["project_id"]
    client.patch(
        f"/api/bandits/{project['bandits'][0]['bandit_id']}",
        json={"active": False},
        headers=ADMIN,
    )
    assert "No hot deals right now" in enter_as_guest(client, pid)
    empty = post_project(client, deals=0)
    assert "No hot deals right now" in client.get(f"/?project={empty['project_id']}").text


@pytest.mark.parametrize("requested", ["999", "abc", "0", "-3", str(2**31), "1e3"])
def test_an_unknown_project_is_a_friendly_404(client: TestClient, requested: str) -> None:
    response = client.get(f"/?project={requested}")
    assert response.status_code == 404
    assert "We couldn&#39;t find those deals" in response.text
    assert 'action="/guest"' in response.text


def test_no_campaign_at_all_is_a_friendly_page(client: TestClient) -> None:
    enter_as_guest(client)
    response = client.get("/")
    assert response.status_code == 200
    assert "No hot deals right now" in response.text


def test_without_a_project_the_newest_running_one_is_shown(client: TestClient) -> None:
    older = post_project(client, deals=2, project_name="Older")
    newer = post_project(client, deals=2, project_name="Newer")
    client.patch(f"/api/projects/{newer['project_id']}", json={"status": "paused"}, headers=ADMIN)
    enter_as_guest(client)
    assert impressions(client, older["project_id"]) == 2
    assert impressions(client, newer["project_id"]) == 0


def test_the_configured_storefront_project_wins(
    configured: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TestClient(create_app()) as setup:
        chosen = post_project(setup, deals=2, project_name="Chosen")
        post_project(setup, deals=2, project_name="Newest")
    monkeypatch.setenv("HOTDEALS_STOREFRONT_PROJECT", str(chosen["project_id"]))
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        enter_as_guest(client)
        assert impressions(client, chosen["project_id"]) == 2


def test_pages_carry_the_security_headers(client: TestClient) -> None:
    response = client.get("/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert "<script>" not in response.text  # no inline script: the policy would block it
