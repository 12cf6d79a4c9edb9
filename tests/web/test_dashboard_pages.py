"""The dashboard over HTTP: sign-in, the session cookie, CSRF, the forms and the figures."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_helpers import (
    TOKEN,
    admin_sign_in,
    cookie_flags,
    cookie_header,
    csrf_of,
    stats,
)

from hotdeals.app import create_app
from hotdeals.config import get_settings
from hotdeals.web import busiest, security
from hotdeals.web.assets import PLOTLY_URL
from tests.factories import ADMIN, post_project, post_user


def traffic(client: TestClient, project_id: int, plan: dict[int, tuple[int, int]]) -> None:
    """Show deal ``i`` (by position in the project) n times and click it c times, with k=1."""
    customer = post_user(client, f"shopper{project_id}@example.com")
    bandits = client.get(f"/api/projects/{project_id}/bandits", headers=ADMIN).json()
    for index, (shown, clicked) in plan.items():
        for other in bandits:
            client.patch(
                f"/api/bandits/{other['bandit_id']}",
                json={"active": other is bandits[index]},
                headers=ADMIN,
            )
        for i in range(shown):
            deal = client.post(
                f"/api/projects/{project_id}/rank",
                json={"customer_id": customer, "k": 1},
                headers=ADMIN,
            ).json()["deals"][0]
            if i < clicked:
                client.post("/api/clicks", json={"token": deal["click_token"]})
    for other in bandits:
        client.patch(f"/api/bandits/{other['bandit_id']}", json={"active": True}, headers=ADMIN)


# Sign-in and the session -----------------------------------------------------------------


def test_the_dashboard_asks_for_the_token_first(client: TestClient) -> None:
    post_project(client, project_name="Secret campaign")
    response = client.get("/admin")
    assert response.status_code == 200
    assert 'name="token"' in response.text
    assert "Secret campaign" not in response.text
    for path in ("/admin/projects/1", "/admin/projects/abc"):
        assert 'name="token"' in client.get(path).text


def test_a_wrong_token_is_refused_with_a_message(client: TestClient) -> None:
    csrf = csrf_of(client.get("/admin").text)
    for wrong in ("", "test-admin-token-not", "TEST-ADMIN-TOKEN", "Bearer test-admin-token"):
        response = client.post("/admin/login", data={"csrf": csrf, "token": wrong})
        assert response.status_code == 401
        assert "That admin token is not right" in response.text
        assert security.SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert 'name="token"' in client.get("/admin").text


def test_the_session_cookie_is_httponly_strict_and_holds_no_token(client: TestClient) -> None:
    csrf = csrf_of(client.get("/admin").text)
    response = client.post(
        "/admin/login", data={"csrf": csrf, "token": TOKEN}, follow_redirects=False
    )
    assert response.status_code == 303
    header = cookie_header(response, security.SESSION_COOKIE)
    flags = cookie_flags(header)
    assert "httponly" in flags
    assert flags["samesite"].lower() == "strict"
    assert flags["path"] == "/admin"
    assert flags["max-age"] == str(12 * 3600)
    assert TOKEN not in header
    assert "Campaigns" in client.get("/admin").text


def test_over_https_the_cookies_are_secure(configured: str) -> None:
    with TestClient(create_app(), base_url="https://testserver") as client:
        first = client.get("/admin")
        assert "secure" in cookie_flags(cookie_header(first, security.VISITOR_COOKIE))
        response = client.post(
            "/admin/login",
            data={"csrf": csrf_of(first.text), "token": TOKEN},
            follow_redirects=False,
        )
        assert "secure" in cookie_flags(cookie_header(response, security.SESSION_COOKIE))


def test_an_expired_forged_or_foreign_session_is_not_a_session(client: TestClient) -> None:
    key = security.signing_key(client.app.state.hotdeals)
    now = security.now()
    good = security.new_admin_session(key, now)
    sessions = {
        "expired": security.new_admin_session(key, now - security.SESSION_TTL - 1),
        "from the future": security.new_admin_session(key, now + 3600),
        "tampered": good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        "re-dated": f"{now + 10}.{good.split('.', 1)[1]}",
        "other token": security.new_admin_session(b"another key", now),
        "garbage": "not.a.session",
    }
    for case, value in sessions.items():
        client.cookies.set(security.SESSION_COOKIE, value, path="/admin")
        assert 'name="token"' in client.get("/admin").text, case
        assert client.get("/admin/projects/1/data.json").status_code == 401, case
    client.cookies.set(security.SESSION_COOKIE, good, path="/admin")
    assert "Campaigns" in client.get("/admin").text


def test_sign_out_ends_the_session(client: TestClient) -> None:
    csrf = admin_sign_in(client)
    response = client.post("/admin/logout", data={"csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert "Max-Age=0" in cookie_header(response, security.SESSION_COOKIE)
    page = client.get(response.headers["location"]).text
    assert "You are signed out." in page
    assert 'name="token"' in page


def test_without_an_admin_token_the_dashboard_is_closed(
    configured: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOTDEALS_ADMIN_TOKEN")
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        page = client.get("/admin").text
        assert "The dashboard is closed" in page
        assert 'name="token"' not in page
        visitor = csrf_of(client.get("/").text)  # the sign-in form's token, from the shop
        for token in ("", "None", "test-admin-token"):
            response = client.post("/admin/login", data={"csrf": visitor, "token": token})
            assert response.status_code == 401
            assert security.SESSION_COOKIE not in response.headers.get("set-cookie", "")


# CSRF ------------------------------------------------------------------------------------


def post_targets(client: TestClient) -> list[tuple[str, dict[str, str]]]:
    project = post_project(client, deals=2)
    pid, bid = project["project_id"], project["bandits"][0]["bandit_id"]
    return [
        ("/admin/projects", {"project_name": "Forged", "deals": "A\nB"}),
        (f"/admin/projects/{pid}/deals", {"bandit_name": "Forged"}),
        (f"/admin/projects/{pid}/status", {"status": "ended"}),
        (f"/admin/deals/{bid}/active", {"active": "false"}),
        (f"/admin/deals/{bid}/window", {"ends_at": "2020-01-01T00:00"}),
        ("/admin/logout", {}),
    ]


def test_every_dashboard_form_needs_its_csrf_token(client: TestClient) -> None:
    targets = post_targets(client)
    csrf = admin_sign_in(client)
    key = security.signing_key(client.app.state.hotdeals)
    other_session = security.csrf_token(key, security.new_admin_session(key, security.now()))
    visitor = csrf_of(client.get("/").text)  # a valid token, but for the storefront's forms
    for path, data in targets:
        for token in ("", "x", other_session, visitor):
            response = client.post(path, data={**data, "csrf": token})
            assert response.status_code == 403, (path, token)
            assert "This form has expired" in response.text
    projects = client.get("/api/projects", headers=ADMIN).json()["items"]
    assert [(p["status"], p["number_of_bandits"]) for p in projects] == [("running", 2)]
    assert all(row["active"] for row in stats(client, projects[0]["project_id"]).values())
    deals = client.get(f"/api/projects/{projects[0]['project_id']}/bandits", headers=ADMIN).json()
    assert [d["ends_at"] for d in deals] == [None, None]
    assert "Campaigns" in client.get("/admin").text  # still signed in: logout was refused too
    assert csrf == csrf_of(client.get("/admin").text)


def test_a_form_posted_without_a_session_is_401(client: TestClient) -> None:
    for path, data in post_targets(client)[:-1]:
        response = client.post(path, data={**data, "csrf": "anything"})
        assert response.status_code == 401, path
        assert "Please sign in again" in response.text


def test_signing_out_without_a_session_just_says_so(client: TestClient) -> None:
    response = client.post("/admin/logout", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin?done=signed-out"


@pytest.mark.parametrize(
    "path",
    [
        "/admin/projects/abc/deals",
        "/admin/projects/0/status",
        f"/admin/deals/{2**31}/active",
        "/admin/deals/abc/window",
    ],
)
def test_a_form_is_refused_before_its_path_is_read(client: TestClient, path: str) -> None:
    """No session: 401; a forged form: 403; only then does a malformed id make a 404."""
    assert client.post(path, data={"csrf": "anything"}).status_code == 401
    csrf = admin_sign_in(client)
    assert client.post(path, data={"csrf": "forged"}).status_code == 403
    response = client.post(path, data={"csrf": csrf})
    assert response.status_code == 404
    assert "No such" in response.text


def test_the_sign_in_form_needs_its_token_too(client: TestClient) -> None:
    client.get("/admin")
    response = client.post("/admin/login", data={"token": TOKEN})
    assert response.status_code == 403
    assert security.SESSION_COOKIE not in response.headers.get("set-cookie", "")


# Campaigns -------------------------------------------------------------------------------


def test_the_list_shows_each_campaign_with_status_and_totals(client: TestClient) -> None:
    busy = post_project(client, deals=2, project_name="Busy week")
    quiet = post_project(client, deals=3, project_name="Quiet week")
    client.patch(f"/api/projects/{quiet['project_id']}", json={"status": "paused"}, headers=ADMIN)
    traffic(client, busy["project_id"], {0: (30, 3), 1: (10, 1)})
    admin_sign_in(client)
    page = client.get("/admin").text
    assert page.index("Quiet week") < page.index("Busy week")  # newest first
    busy_row = page[page.index(f'data-project-id="{busy["project_id"]}"') :]
    busy_row = busy_row[: busy_row.index("</tr>")]
    assert 'data-field="impressions">40<' in busy_row
    assert 'data-field="clicks">4<' in busy_row
    assert "10.00%" in busy_row
    assert "badge-running" in busy_row
    assert "badge-paused" in page


def test_create_a_campaign_from_the_form(client: TestClient) -> None:
    csrf = admin_sign_in(client)
    response = client.post(
        "/admin/projects",
        data={
            "csrf": csrf,
            "project_name": "Breakfast week",
            "project_description": "Mornings",
            "policy": "ucb1",
            "slots": "2",
            "deals": "Croissants 4 for 3 | €2.49 | 🥐\n\n  Orange juice | 1.79 | 🍊 | Fresh, 1 l \n"
            "Granola",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.endswith("?done=created")
    project = client.get("/api/projects", headers=ADMIN).json()["items"][0]
    assert (project["project_name"], project["policy"], project["slots"]) == (
        "Breakfast week",
        "ucb1",
        2,
    )
    deals = client.get(f"/api/projects/{project['project_id']}/bandits", headers=ADMIN).json()
    assert [(d["bandit_name"], d["price"], d["emoji"], d["description"]) for d in deals] == [
        ("Croissants 4 for 3", "2.49", "🥐", None),
        ("Orange juice", "1.79", "🍊", "Fresh, 1 l"),
        ("Granola", None, None, None),
    ]
    page = client.get(location).text
    assert "Campaign created" in page
    assert page.count("data-bandit-id=") == 3


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"project_name": ""}, 400, "Name: String should have at least 1 character"),
        ({"deals": "A | 1.00\nB | cheap"}, 400, "Deals, line 2, price: Input should be a valid"),
        ({"deals": "A | -1"}, 400, "Deals, line 1, price: Input should be greater than"),
        ({"slots": "0"}, 400, "Slots: Input should be greater than or equal to 1"),
        ({"slots": "three"}, 400, "Slots: enter a whole number from 1 to 20"),
        ({"slots": "2.5"}, 400, "Slots: enter a whole number from 1 to 20"),
        ({"policy": "greedy"}, 400, "Policy: Input should be"),
        ({"deals": "A\nA"}, 409, "deal names must be unique"),
        ({"deals": "x" * 201}, 400, "Deals, line 1, name: String should have at most 200"),
    ],
)
def test_a_bad_campaign_form_is_explained_and_kept(
    client: TestClient, fields: dict[str, str], status: int, message: str
) -> None:
    csrf = admin_sign_in(client)
    data = {"csrf": csrf, "project_name": "Kept name", "deals": "A | 1.00", **fields}
    response = client.post("/admin/projects", data=data)
    assert response.status_code == status
    assert message in response.text
    assert "The campaign was not created" in response.text
    if data["project_name"]:
        assert 'value="Kept name"' in response.text
    assert client.get("/api/projects", headers=ADMIN).json()["total"] == 0


def test_a_form_with_missing_fields_reads_them_as_empty(client: TestClient) -> None:
    """A form is text: a missing field is an empty one (or the form's default), never a 422."""
    project = post_project(client, deals=1)
    pid, bid = project["project_id"], project["bandits"][0]["bandit_id"]
    csrf = admin_sign_in(client)
    cases = [
        ("/admin/projects", 400, "Name: String should have at least 1 character"),
        (f"/admin/projects/{pid}/deals", 400, "name: String should have at least 1 character"),
        (f"/admin/projects/{pid}/status", 400, "Choose pause, resume or end."),
        (f"/admin/deals/{bid}/active", 400, "Choose deactivate or reactivate"),
    ]
    for path, status, message in cases:
        response = client.post(path, data={"csrf": csrf})
        assert response.status_code == status, path
        assert message in response.text, path
    page = client.post("/admin/projects", data={"csrf": csrf}).text
    assert 'value="3"' in page  # the slots' default, as on a fresh form
    assert '<option value="thompson" selected>' in page
    stored = client.get(f"/api/projects/{pid}", headers=ADMIN).json()
    assert (stored["status"], stored["number_of_bandits"]) == ("running", 1)


def test_a_form_with_unknown_fields_ignores_them(client: TestClient) -> None:
    csrf = admin_sign_in(client)
    response = client.post(
        "/admin/projects",
        data={
            "csrf": csrf,
            "project_name": "Plain",
            "deals": "A",
            "status": "ended",
            "policy_override": "uniform",
            "bandits": "B\nC",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    project = client.get("/api/projects", headers=ADMIN).json()["items"][0]
    assert (project["project_name"], project["status"], project["policy"]) == (
        "Plain",
        "running",
        "thompson",
    )
    assert project["number_of_bandits"] == 1


def test_add_a_deal_and_switch_deals_off_and_on(client: TestClient) -> None:
    project = post_project(client, deals=2)
    pid = project["project_id"]
    csrf = admin_sign_in(client)
    response = client.post(
        f"/admin/projects/{pid}/deals",
        data={"csrf": csrf, "bandit_name": "Lemons", "price": "0.99", "emoji": "🍋"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "Deal added" in client.get(response.headers["location"]).text
    deals = client.get(f"/api/projects/{pid}/bandits", headers=ADMIN).json()
    assert (deals[-1]["bandit_name"], deals[-1]["price"], deals[-1]["emoji"]) == (
        "Lemons",
        "0.99",
        "🍋",
    )
    first = deals[0]["bandit_id"]
    off = client.post(f"/admin/deals/{first}/active", data={"csrf": csrf, "active": "false"})
    assert "Deal deactivated" in off.text
    assert 'class="inactive"' in off.text
    assert not client.get(f"/api/projects/{pid}/bandits", headers=ADMIN).json()[0]["active"]
    on = client.post(f"/admin/deals/{first}/active", data={"csrf": csrf, "active": "true"})
    assert "Deal reactivated" in on.text
    assert client.get(f"/api/projects/{pid}/bandits", headers=ADMIN).json()[0]["active"]


def test_deal_form_errors_are_shown_on_the_project_page(client: TestClient) -> None:
    project = post_project(client, deals=1)
    pid = project["project_id"]
    csrf = admin_sign_in(client)
    duplicate = client.post(
        f"/admin/projects/{pid}/deals", data={"csrf": csrf, "bandit_name": "Deal 0"}
    )
    assert duplicate.status_code == 409
    assert "already has a deal named" in duplicate.text
    bad_url = client.post(
        f"/admin/projects/{pid}/deals",
        data={"csrf": csrf, "bandit_name": "New", "image_url": "javascript:alert(1)"},
    )
    assert bad_url.status_code == 400
    assert "image URL: String should match pattern" in bad_url.text
    unknown = client.post("/admin/projects/999/deals", data={"csrf": csrf, "bandit_name": "X"})
    assert unknown.status_code == 404
    for bad in ("999", "abc"):
        response = client.post(f"/admin/deals/{bad}/active", data={"csrf": csrf, "active": "true"})
        assert response.status_code == 404


def test_pause_resume_and_end_with_the_winner(client: TestClient) -> None:
    project = post_project(client, deals=2)
    pid, winner = project["project_id"], project["bandits"][1]["bandit_id"]
    csrf = admin_sign_in(client)

    def post(**data: str) -> Any:
        return client.post(f"/admin/projects/{pid}/status", data={"csrf": csrf, **data})

    assert "Campaign paused" in post(status="paused").text
    assert client.get(f"/api/projects/{pid}", headers=ADMIN).json()["status"] == "paused"
    assert "Campaign resumed" in post(status="running").text
    ended = post(status="ended", winner_bandit_id=str(winner), confirm="end")
    assert "Campaign ended with its winner" in ended.text
    assert "the winner is Deal 1" in ended.text
    stored = client.get(f"/api/projects/{pid}", headers=ADMIN).json()
    assert (stored["status"], stored["winner_bandit_id"]) == ("ended", winner)
    again = post(status="running")
    assert again.status_code == 409
    assert "cannot become running" in again.text


def test_bad_status_changes_are_explained(client: TestClient) -> None:
    other = post_project(client, deals=1)
    project = post_project(client, deals=1)
    pid = project["project_id"]
    csrf = admin_sign_in(client)
    cases = [
        ({"status": "archived"}, 400, "Choose pause, resume or end."),
        ({"status": "ended", "winner_bandit_id": "abc"}, 400, "Choose the winner from the list."),
        (
            {
                "status": "ended",
                "winner_bandit_id": str(other["bandits"][0]["bandit_id"]),
                "confirm": "end",
            },
            400,
            "is not a deal of project",
        ),
    ]
    for data, status, message in cases:
        response = client.post(f"/admin/projects/{pid}/status", data={"csrf": csrf, **data})
        assert response.status_code == status
        assert message in response.text
    assert (
        client.post(
            "/admin/projects/999/status", data={"csrf": csrf, "status": "paused"}
        ).status_code
        == 404
    )
    assert client.get(f"/api/projects/{pid}", headers=ADMIN).json()["status"] == "running"


# The project page and its figures ---------------------------------------------------------


def test_the_project_page_shows_the_arm_table_and_the_winner(client: TestClient) -> None:
    project = post_project(client, deals=2, min_impressions=20)
    pid = project["project_id"]
    traffic(client, pid, {0: (40, 2), 1: (40, 30)})
    csrf = admin_sign_in(client)
    page = client.get(f"/admin/projects/{pid}").text
    expected = stats(client, pid)
    strong = project["bandits"][1]["bandit_id"]
    row = page[page.index(f'<tr data-bandit-id="{strong}"') :]
    row = row[: row.index("</tr>")]
    assert 'data-field="impressions">40<' in row
    assert 'data-field="clicks">30<' in row
    assert 'data-field="ctr">75.00%<' in row
    low, high = expected[strong]["ci_low"] * 100, expected[strong]["ci_high"] * 100
    assert f'data-field="interval">{low:.1f}\u2013{high:.1f}%<' in row
    assert f'data-field="prob_best">{expected[strong]["prob_best"] * 100:.1f}%<' in row
    assert 'data-field="share_24h">50.0%<' in row
    assert 'data-field="state">active<' in row
    assert "Winner suggestion" in page
    assert "Deal 1 is the best deal with probability" in page
    assert f'<option value="{strong}" selected>Deal 1 (suggested)</option>' in page
    assert TOKEN not in page
    assert csrf in page
    assert f'src="{PLOTLY_URL}"' in page
    for chart in ("chart-ctr", "chart-posterior", "chart-allocation", "chart-clicks"):
        assert f'id="{chart}"' in page


@pytest.mark.parametrize("requested", ["999", "abc", "0", str(2**31)])
def test_an_unknown_project_page_is_a_friendly_404(client: TestClient, requested: str) -> None:
    admin_sign_in(client)
    response = client.get(f"/admin/projects/{requested}")
    assert response.status_code == 404
    assert "No such campaign" in response.text
    assert client.get(f"/admin/projects/{requested}/data.json").status_code == 404


def test_the_data_feed_matches_the_api(client: TestClient) -> None:
    project = post_project(client, deals=3)
    pid = project["project_id"]
    traffic(client, pid, {0: (12, 3), 1: (6, 0), 2: (2, 1)})
    admin_sign_in(client)
    response = client.get(f"/admin/projects/{pid}/data.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    data = response.json()
    api_stats = client.get(f"/api/projects/{pid}/stats", headers=ADMIN).json()
    assert data["stats"]["bandits"] == api_stats["bandits"]
    assert data["totals"] == {"impressions": "20", "clicks": "4", "ctr": "20.00%"}
    assert [r["cells"]["impressions"] for r in data["rows"]] == ["12", "6", "2"]
    series = data["series"]
    assert series["bucket"] == "hour"
    assert len(series["buckets"]) == 1
    ids = [str(b["bandit_id"]) for b in project["bandits"]]
    assert [series["impressions"][i][0] for i in ids] == [12, 6, 2]
    assert [series["clicks"][i][0] for i in ids] == [3, 0, 1]
    assert [series["share"][i][0] for i in ids] == [0.6, 0.3, 0.1]
    charts = data["charts"]
    assert set(charts) == {"chart-ctr", "chart-posterior", "chart-allocation", "chart-clicks"}
    names = [b["bandit_name"] for b in project["bandits"]]
    for figure in charts.values():
        assert [t["name"] for t in figure["data"]] == names
    assert [t["y"] for t in charts["chart-allocation"]["data"]] == [[0.6], [0.3], [0.1]]
    assert (
        client.get(f"/admin/projects/{pid}/data.json?bucket=day").json()["series"]["bucket"]
        == "day"
    )


def test_the_charts_of_a_campaign_of_many_deals_draw_its_busiest_twelve(
    client: TestClient,
) -> None:
    project = post_project(client, deals=14)
    pid = project["project_id"]
    traffic(client, pid, {i: (1 + i % 7 + (i == 0) * 10, 0) for i in range(14)})
    admin_sign_in(client)
    data = client.get(f"/admin/projects/{pid}/data.json").json()
    assert data["charted"] == {"deals": 12, "of": 14}
    assert len(data["rows"]) == 14  # the table lists every deal
    shown = {i: 1 + i % 7 + (i == 0) * 10 for i in range(14)}
    # The two with fewest impressions (ties: the higher id goes) are left out of every chart.
    left_out = sorted(range(14), key=lambda i: (shown[i], -i))[:2]
    names = [b["bandit_name"] for i, b in enumerate(project["bandits"]) if i not in left_out]
    for figure in data["charts"].values():
        assert [t["name"] for t in figure["data"]] == names
    kept = {str(b["bandit_id"]) for i, b in enumerate(project["bandits"]) if i not in left_out}
    assert set(data["series"]["impressions"]) == kept


def test_the_table_of_a_campaign_of_many_deals_lists_its_busiest(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``MAX_LISTED`` deals (lowered here to 10 of 14) the table, the deals' controls, the
    feed's rows and raw figures hold the busiest; ``?deals=all`` lists every deal."""
    monkeypatch.setattr(busiest, "MAX_LISTED", 10)
    project = post_project(client, deals=14)
    pid = project["project_id"]
    shown = {i: 1 + i % 7 + (i == 0) * 10 for i in range(14)}
    traffic(client, pid, {i: (n, 0) for i, n in shown.items()})
    ids = [b["bandit_id"] for b in project["bandits"]]
    left_out = {ids[i] for i in sorted(range(14), key=lambda i: (shown[i], -i))[:4]}
    admin_sign_in(client)
    page = client.get(f"/admin/projects/{pid}").text
    listed = {int(i) for i in re.findall(r'<tr data-bandit-id="(\d+)"', page)}
    assert listed == set(ids) - left_out
    assert {int(i) for i in re.findall(r'<li data-deal="(\d+)"', page)} == listed
    assert "The table lists the 10 deals with the most impressions, of 14" in page
    assert f'href="/admin/projects/{pid}?deals=all"' in page
    assert f'data-data-url="/admin/projects/{pid}/data.json"' in page
    data = client.get(f"/admin/projects/{pid}/data.json").json()
    assert {row["bandit_id"] for row in data["rows"]} == listed
    assert {deal["bandit_id"] for deal in data["stats"]["bandits"]} == listed
    assert data["listed"] == {"deals": 10, "of": 14}
    assert data["totals"]["impressions"] == str(sum(shown.values()))  # over every deal
    every = client.get(f"/admin/projects/{pid}?deals=all").text
    assert len(re.findall(r'<tr data-bandit-id="', every)) == 14
    assert f'data-data-url="/admin/projects/{pid}/data.json?deals=all"' in every
    assert "Every deal is listed" in every
    assert len(client.get(f"/admin/projects/{pid}/data.json?deals=all").json()["rows"]) == 14


def test_an_empty_campaign_still_has_a_page_and_a_feed(client: TestClient) -> None:
    project = post_project(client, deals=0)
    admin_sign_in(client)
    page = client.get(f"/admin/projects/{project['project_id']}")
    assert page.status_code == 200
    assert "This campaign has no deals yet" in page.text
    data = client.get(f"/admin/projects/{project['project_id']}/data.json").json()
    assert data["rows"] == []
    assert all(figure["data"] == [] for figure in data["charts"].values())


# Assets ----------------------------------------------------------------------------------


def test_plotly_comes_from_the_installed_package_with_long_caching(client: TestClient) -> None:
    response = client.get(PLOTLY_URL)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "max-age=31536000" in response.headers["cache-control"]
    assert "immutable" in response.headers["cache-control"]
    assert b"window.Plotly" in response.content


def test_our_static_files_are_served_and_nothing_else(client: TestClient) -> None:
    page = client.get("/").text
    css = page[page.index("/static/site.css?v=") :].split('"')[0]
    response = client.get(css)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    for missing in ("/static/nope.css", "/static/..%2Fsecurity.py", "/static/%2e%2e"):
        assert client.get(missing).status_code == 404
