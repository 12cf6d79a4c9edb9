"""Schedules and the winner rule's settings in the dashboard's forms, and what the pages say at
a window's edges, over HTTP on both backends.

Times are injected: the app of :func:`clocked` reads the test's :class:`Clock`, which moves only
when the test moves it, so nothing waits for a window to open or close.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_helpers import Clock, admin_sign_in, section

from hotdeals.vocabulary import DEFAULT_POSITION_CORRECTION
from tests.factories import ADMIN, post_project


def form_time(moment: datetime) -> str:
    """What a ``datetime-local`` input sends: minutes, no zone."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def api_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:00Z")


def page_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def create(client: TestClient, csrf: str, **fields: str) -> Any:
    data = {"csrf": csrf, "project_name": "Weekly deals", "deals": "Figs\nKiwis", **fields}
    return client.post("/admin/projects", data=data, follow_redirects=False)


def stored_deal(client: TestClient, project_id: int, bandit_id: int) -> dict[str, Any]:
    deals = client.get(f"/api/projects/{project_id}/bandits", headers=ADMIN).json()
    found: dict[str, Any] = next(d for d in deals if d["bandit_id"] == bandit_id)
    return found


def stored_projects(client: TestClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get("/api/projects", headers=ADMIN).json()["items"]
    return items


# The create form ----------------------------------------------------------------------------


def test_a_campaign_form_sets_its_schedule_and_winner_rule(
    clocked: TestClient, clock: Clock
) -> None:
    starts = datetime(2030, 12, 7, tzinfo=UTC)
    ends = datetime(2030, 12, 13, 23, 59, tzinfo=UTC)
    csrf = admin_sign_in(clocked)
    response = create(
        clocked,
        csrf,
        starts_at=form_time(starts),
        ends_at=form_time(ends),
        end_action="rollout",
        min_prob_best="0.9",
        max_relative_loss="0.5%",
        min_impressions="250",
        min_duration_days="7",
        position_correction="on",
    )
    assert response.status_code == 303, response.text
    (stored,) = stored_projects(clocked)
    assert (stored["starts_at"], stored["ends_at"]) == (api_time(starts), api_time(ends))
    assert (stored["end_action"], stored["min_prob_best"], stored["min_impressions"]) == (
        "rollout",
        0.9,
        250,
    )
    assert stored["max_relative_loss"] == pytest.approx(0.005)
    assert (stored["min_duration_days"], stored["position_correction"]) == (7.0, True)
    assert stored["effective_status"] == "scheduled"  # the clock is days before the start

    page = clocked.get(response.headers["location"]).text
    assert 'class="badge badge-scheduled" data-field="status">scheduled<' in page
    assert f"Scheduled: the campaign starts at {page_time(starts)}." in page
    assert f"{page_time(starts)[:-4]} to {page_time(ends)}</strong>, then <strong>roll out" in page
    assert "P(best) \u2265 0.90 or expected loss &lt; 0.50% of the leader&#39;s CTR" in page
    assert "at least 7 days" in page
    assert "position correction <strong>on</strong>" in page
    assert "nothing until the campaign starts at" in page

    listed = section(
        clocked.get("/admin").text, f'data-project-id="{stored["project_id"]}"', "</tr>"
    )
    assert "badge-scheduled" in listed
    assert f'data-field="window">{page_time(starts)[:-4]} to {page_time(ends)}<' in listed


def test_an_empty_schedule_and_default_rule_are_the_services_defaults(
    client: TestClient,
) -> None:
    csrf = admin_sign_in(client)
    fresh = client.get("/admin").text
    assert 'name="max_relative_loss" inputmode="decimal" value="0.25%"' in fresh
    checked = 'name="position_correction" type="checkbox" value="on" checked>'
    assert (checked in fresh) == DEFAULT_POSITION_CORRECTION
    as_shown = {"position_correction": "on"} if DEFAULT_POSITION_CORRECTION else {}
    assert create(client, csrf, **as_shown).status_code == 303  # the form as the browser sends it
    (stored,) = stored_projects(client)
    api_default = client.post(
        "/api/projects", json={"project_name": "Defaults"}, headers=ADMIN
    ).json()
    for field in (
        "starts_at",
        "ends_at",
        "end_action",
        "min_prob_best",
        "max_relative_loss",
        "min_impressions",
        "min_duration_days",
        "position_correction",
    ):
        assert stored[field] == api_default[field], field


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"starts_at": "2030-12-08T00:00", "ends_at": "2030-12-07T00:00"},
            "the campaign&#39;s ends_at (2030-12-07T00:00:00+00:00) must be after starts_at",
        ),
        ({"starts_at": "next monday"}, "Starts (UTC): enter a date and time such as"),
        ({"ends_at": "2030-13-01T00:00"}, "Ends (UTC): enter a date and time such as"),
        (
            {"end_action": "pause"},
            "At the end: Input should be &#39;stop&#39; or &#39;rollout&#39;",
        ),
        ({"max_relative_loss": "100%"}, "Or expected loss below: Input should be less than 1"),
        ({"max_relative_loss": "a lot"}, "Or expected loss below: Input should be a valid number"),
        ({"min_prob_best": "0.4"}, "P(best) needed: Input should be greater than 0.5"),
        ({"min_duration_days": "-1"}, "Minimum days: Input should be greater than or equal to 0"),
        ({"min_impressions": "many"}, "Leader&#39;s impressions: Input should be a valid integer"),
    ],
)
def test_a_bad_schedule_or_rule_is_explained_and_nothing_is_stored(
    client: TestClient, fields: dict[str, str], message: str
) -> None:
    csrf = admin_sign_in(client)
    response = create(client, csrf, **fields)
    assert response.status_code == 400
    assert message in response.text
    assert "The campaign was not created" in response.text
    for value in fields.values():
        assert f'value="{value}"' in response.text or value == "pause"  # the form keeps it
    assert stored_projects(client) == []


def test_every_problem_of_a_form_is_listed_at_once(client: TestClient) -> None:
    csrf = admin_sign_in(client)
    page = create(client, csrf, slots="two", starts_at="soon", min_duration_days="-2").text
    for message in (
        "Slots: enter a whole number from 1 to 20",
        "Starts (UTC): enter a date and time such as",
        "Minimum days: Input should be greater than or equal to 0",
    ):
        assert message in page


# Deals' windows -------------------------------------------------------------------------------


def test_a_deal_gets_a_window_when_added_and_edited(clocked: TestClient, clock: Clock) -> None:
    project = post_project(clocked, deals=["Figs"])
    pid = project["project_id"]
    figs = project["bandits"][0]["bandit_id"]
    starts, ends = clock.now + timedelta(days=1), clock.now + timedelta(days=8)
    csrf = admin_sign_in(clocked)
    added = clocked.post(
        f"/admin/projects/{pid}/deals",
        data={"csrf": csrf, "bandit_name": "Kiwis", "ends_at": form_time(ends)},
    )
    assert "Deal added" in added.text
    kiwis = clocked.get(f"/api/projects/{pid}/bandits", headers=ADMIN).json()[1]
    assert (kiwis["starts_at"], kiwis["ends_at"]) == (None, api_time(ends))
    assert f"until {page_time(ends)}" in section(
        added.text, f'data-deal="{kiwis["bandit_id"]}"', "</li>"
    )

    edited = clocked.post(
        f"/admin/deals/{figs}/window",
        data={"csrf": csrf, "starts_at": form_time(starts), "ends_at": form_time(ends)},
    )
    assert "Deal window saved" in edited.text
    stored = stored_deal(clocked, pid, figs)
    assert (stored["starts_at"], stored["ends_at"]) == (api_time(starts), api_time(ends))
    row = section(edited.text, f'<tr data-bandit-id="{figs}"', "</tr>")
    assert 'data-field="state">scheduled<' in row
    control = section(edited.text, f'data-deal="{figs}"', "</li>")
    assert f'value="{form_time(starts)}"' in control
    assert f"{page_time(starts)[:-4]} to {page_time(ends)}" in control

    cleared = clocked.post(
        f"/admin/deals/{figs}/window", data={"csrf": csrf, "starts_at": "", "ends_at": ""}
    )
    assert "Deal window saved" in cleared.text
    stored = stored_deal(clocked, pid, figs)
    assert (stored["starts_at"], stored["ends_at"]) == (None, None)


def test_a_deal_window_that_ends_before_it_starts_is_refused(clocked: TestClient) -> None:
    project = post_project(clocked, deals=["Figs"])
    pid, figs = project["project_id"], project["bandits"][0]["bandit_id"]
    csrf = admin_sign_in(clocked)
    late, early = "2030-12-08T00:00", "2030-12-07T00:00"
    added = clocked.post(
        f"/admin/projects/{pid}/deals",
        data={"csrf": csrf, "bandit_name": "Kiwis", "starts_at": late, "ends_at": early},
    )
    assert added.status_code == 400
    assert "ends_at (2030-12-07T00:00:00+00:00) must be after starts_at" in added.text
    assert f'value="{late}"' in added.text
    edited = clocked.post(
        f"/admin/deals/{figs}/window", data={"csrf": csrf, "starts_at": late, "ends_at": early}
    )
    assert edited.status_code == 400
    assert "must be after starts_at" in edited.text
    unreadable = clocked.post(
        f"/admin/deals/{figs}/window", data={"csrf": csrf, "starts_at": "tomorrow"}
    )
    assert unreadable.status_code == 400
    assert "Starts (UTC): enter a date and time such as" in unreadable.text
    deals = clocked.get(f"/api/projects/{pid}/bandits", headers=ADMIN).json()
    assert [(d["bandit_name"], d["starts_at"], d["ends_at"]) for d in deals] == [
        ("Figs", None, None)
    ]
    missing = clocked.post("/admin/deals/999/window", data={"csrf": csrf})
    assert missing.status_code == 404


# The pages at a window's edges ------------------------------------------------------------------


def badge(page: str) -> str:
    return str(section(page, 'id="project-status"', "</h1>"))


@pytest.mark.parametrize(
    ("end_action", "after", "notice"),
    [
        ("rollout", "rollout", "has passed: rolling out its leader."),
        ("stop", "ended", "has passed: the strip shows nothing."),
    ],
)
def test_the_page_follows_the_campaigns_window(
    clocked: TestClient, clock: Clock, end_action: str, after: str, notice: str
) -> None:
    minute = clock.now.replace(second=0, microsecond=0)
    starts, ends = minute + timedelta(hours=1), minute + timedelta(days=2)
    project = post_project(
        clocked, deals=2, starts_at=api_time(starts), ends_at=api_time(ends), end_action=end_action
    )
    pid = project["project_id"]
    admin_sign_in(clocked)
    assert ">scheduled<" in badge(clocked.get(f"/admin/projects/{pid}").text)
    clock.now = starts  # the window is [starts_at, ends_at): running from its first instant
    page = clocked.get(f"/admin/projects/{pid}").text
    assert ">running<" in badge(page)
    assert 'id="status-notice"' not in page
    assert (
        clocked.get(f"/admin/projects/{pid}/data.json").json()["project"]["effective_status"]
        == "running"
    )
    clock.now = ends  # ... and past it from its last
    page = clocked.get(f"/admin/projects/{pid}").text
    assert f">{after}<" in badge(page)
    assert f"The campaign&#39;s end ({page_time(ends)}) {notice}" in page
    assert clocked.get(f"/admin/projects/{pid}/data.json").json()["project"] == {
        "project_id": pid,
        "project_name": project["project_name"],
        "status": "running",
        "effective_status": after,
    }
    listed = section(clocked.get("/admin").text, f'data-project-id="{pid}"', "</tr>")
    assert f"badge-{after}" in listed


def test_a_deals_state_follows_its_window(clocked: TestClient, clock: Clock) -> None:
    minute = clock.now.replace(second=0, microsecond=0)
    opens, closes = minute + timedelta(minutes=5), minute + timedelta(minutes=10)
    project = post_project(clocked, deals=["Figs"])
    pid, figs = project["project_id"], project["bandits"][0]["bandit_id"]
    clocked.patch(
        f"/api/bandits/{figs}",
        json={"starts_at": api_time(opens), "ends_at": api_time(closes)},
        headers=ADMIN,
    )
    admin_sign_in(clocked)
    states = []
    for moment in (opens - timedelta(seconds=1), opens, closes - timedelta(seconds=1), closes):
        clock.now = moment
        data = clocked.get(f"/admin/projects/{pid}/data.json").json()
        states.append(data["rows"][0]["cells"]["state"])
    assert states == ["scheduled", "active", "active", "expired"]
    clocked.patch(f"/api/bandits/{figs}", json={"active": False}, headers=ADMIN)
    page = clocked.get(f"/admin/projects/{pid}").text
    assert 'data-field="state">inactive<' in page
