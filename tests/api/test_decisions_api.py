"""Decisions over HTTP: rollout after a winner, schedules at their edges, the decision panel.

Time is the app's injected wall clock (:class:`~tests.support.clock.WallClock`): a test moves
it past a window's edge, nothing waits. Both backends.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hotdeals.app import create_app
from hotdeals.config import get_settings
from tests.factories import ADMIN, post_project
from tests.support.clock import WallClock

HOUR = timedelta(hours=1)


@pytest.fixture
def clock() -> WallClock:
    return WallClock()


@pytest.fixture
def client(
    configured: str, clock: WallClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """The app on the test clock, reading every snapshot fresh (an answer follows the counters
    the test just read, not a snapshot up to 50 ms old)."""
    monkeypatch.setenv("HOTDEALS_SNAPSHOT_TTL_MS", "0")
    get_settings.cache_clear()
    with TestClient(create_app(clock=clock), raise_server_exceptions=False) as client:
        yield client


def ranked(client: TestClient, project_id: int, visitor: str = "v-1", k: int | None = None) -> Any:
    body: dict[str, Any] = {"visitor_id": visitor} | ({"k": k} if k else {})
    return client.post(f"/api/projects/{project_id}/rank", json=body)


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [d["bandit_name"] for d in response.json()["deals"]]


def end(client: TestClient, project_id: int, **body: object) -> dict[str, Any]:
    response = client.patch(
        f"/api/projects/{project_id}", json={"status": "ended", **body}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def deals_of(client: TestClient, project_id: int) -> dict[str, dict[str, Any]]:
    listed = client.get(f"/api/projects/{project_id}/bandits", headers=ADMIN).json()
    return {b["bandit_name"]: b for b in listed}


def click_all(client: TestClient, response: Any, name: str) -> None:
    for deal in response.json()["deals"]:
        if deal["bandit_name"] == name:
            assert client.post("/api/clicks", json={"token": deal["click_token"]}).is_success


def test_ending_with_a_winner_rolls_it_out_first_then_by_posterior_mean(
    client: TestClient,
) -> None:
    project = post_project(client, deals=["A", "B", "C", "D"], slots=3)
    pid = project["project_id"]
    for visitor in range(40):  # C collects clicks: its posterior mean leads the losers'
        click_all(client, ranked(client, pid, f"v-{visitor}"), "C")
    before = deals_of(client, pid)
    ended = end(client, pid, winner_bandit_id=before["A"]["bandit_id"])
    assert (ended["status"], ended["effective_status"]) == ("ended", "rollout")

    for visitor in range(5):  # no exploration: each answer follows the posterior means
        current = deals_of(client, pid)
        mean = {n: d["alpha"] / (d["alpha"] + d["beta"]) for n, d in current.items()}
        others = sorted((n for n in mean if n != "A"), key=lambda n: (-mean[n], n))
        assert names(ranked(client, pid, f"w-{visitor}")) == ["A", *others[:2]]
    after = deals_of(client, pid)
    assert after["A"]["n"] == before["A"]["n"] + 5  # the rollout's impressions are logged
    stats = client.get(f"/api/projects/{pid}/stats", headers=ADMIN).json()
    assert stats["decision"]["state"] == "rollout"
    assert "'A' in slot 1, then the other deals by posterior mean" in stats["decision"]["showing"]


def test_ending_without_a_winner_stops_the_strip(client: TestClient) -> None:
    pid = post_project(client, deals=3)["project_id"]
    assert end(client, pid)["effective_status"] == "ended"
    response = ranked(client, pid)
    assert response.status_code == 409
    assert "ended without a winner" in response.json()["detail"]
    stats = client.get(f"/api/projects/{pid}/stats", headers=ADMIN).json()
    assert stats["decision"]["state"] == "ended"
    assert stats["decision"]["showing"] == "nothing"


def test_a_deal_enters_and_leaves_the_ranking_at_its_windows_edges(
    client: TestClient, clock: WallClock
) -> None:
    deals = [
        {"bandit_name": "Always"},
        {"bandit_name": "Weekend", "starts_at": clock.iso(2 * HOUR)},
        {"bandit_name": "Morning", "ends_at": clock.iso(HOUR)},
    ]
    pid = post_project(client, deals=0, slots=3, bandits=deals)["project_id"]
    assert sorted(names(ranked(client, pid))) == ["Always", "Morning"]
    clock.advance(HOUR - timedelta(microseconds=1))
    assert sorted(names(ranked(client, pid))) == ["Always", "Morning"]
    clock.advance(timedelta(microseconds=1))  # ends_at is exclusive
    assert names(ranked(client, pid)) == ["Always"]
    clock.advance(HOUR - timedelta(microseconds=1))
    assert names(ranked(client, pid)) == ["Always"]
    clock.advance(timedelta(microseconds=1))  # starts_at is inclusive
    assert sorted(names(ranked(client, pid))) == ["Always", "Weekend"]


def test_a_campaign_is_scheduled_before_its_start_and_stops_or_rolls_out_after_its_end(
    client: TestClient, clock: WallClock
) -> None:
    window = {"starts_at": clock.iso(HOUR), "ends_at": clock.iso(3 * HOUR)}
    stopping = post_project(client, deals=["A", "B"], **window)["project_id"]
    rolling = post_project(client, deals=["A", "B"], end_action="rollout", **window)["project_id"]
    for pid in (stopping, rolling):
        response = ranked(client, pid)
        assert response.status_code == 409
        assert "is scheduled: it starts at" in response.json()["detail"]
        status = client.get(f"/api/projects/{pid}", headers=ADMIN).json()
        assert (status["status"], status["effective_status"]) == ("running", "scheduled")
    clock.advance(HOUR)
    assert len(names(ranked(client, stopping))) == 2
    click_all(client, ranked(client, rolling), "B")
    clock.advance(2 * HOUR)
    response = ranked(client, stopping)
    assert response.status_code == 409
    assert "ended at its scheduled end" in response.json()["detail"]
    assert names(ranked(client, rolling)) == ["B", "A"]  # B's click: the higher mean
    listed = client.get("/api/projects", headers=ADMIN).json()["items"]
    assert {p["project_id"]: p["effective_status"] for p in listed} == {
        stopping: "ended",
        rolling: "rollout",
    }


def test_no_deal_in_its_window_is_a_409_naming_the_schedule(
    client: TestClient, clock: WallClock
) -> None:
    deals = [{"bandit_name": "Later", "starts_at": clock.iso(HOUR)}]
    pid = post_project(client, deals=0, bandits=deals)["project_id"]
    response = ranked(client, pid)
    assert response.status_code == 409
    assert "no active deal inside its schedule now" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"starts_at": "2026-12-08T00:00:00Z", "ends_at": "2026-12-07T00:00:00Z"}, "after"),
        ({"ends_at": "2026-12-07T00:00:00"}, "timezone"),
        ({"ends_at": 1_900_000_000}, "ends_at"),  # not Unix seconds: a string with a zone
        ({"end_action": "explode"}, "end_action"),
        ({"max_relative_loss": 1.0}, "max_relative_loss"),
        ({"min_duration_days": -1}, "min_duration_days"),
        ({"position_correction": "yes"}, "position_correction"),
    ],
)
def test_bad_schedules_and_rule_settings_are_refused_naming_the_field(
    client: TestClient, body: dict[str, Any], words: str
) -> None:
    response = client.post("/api/projects", json={"project_name": "P", **body}, headers=ADMIN)
    assert response.status_code in (400, 422), response.text
    assert words in response.text
    assert client.get("/api/projects", headers=ADMIN).json()["total"] == 0


def test_a_deal_window_that_ends_before_it_starts_is_refused_on_patch(
    client: TestClient,
) -> None:
    project = post_project(client, deals=["A"])
    deal = project["bandits"][0]
    response = client.patch(
        f"/api/bandits/{deal['bandit_id']}",
        json={"starts_at": "2026-12-08T00:00:00Z", "ends_at": "2026-12-07T00:00:00Z"},
        headers=ADMIN,
    )
    assert response.status_code == 400
    assert "must be after starts_at" in response.json()["detail"]
    assert deals_of(client, project["project_id"])["A"]["starts_at"] is None


def test_the_decision_panel_says_what_is_missing_forecasts_and_measures_the_uplift(
    client: TestClient,
) -> None:
    pid = post_project(client, deals=["A", "B", "C"], slots=1, min_duration_days=7)["project_id"]
    for visitor in range(30):  # one click in three visits to C: no deal is clearly best yet
        response = ranked(client, pid, f"v-{visitor}")
        if visitor % 3 == 0:
            click_all(client, response, "C")
    stats = client.get(f"/api/projects/{pid}/stats", headers=ADMIN).json()
    decision = stats["decision"]
    assert decision["state"] == "collecting"
    conditions = {c["name"]: c for c in decision["conditions"]}
    assert set(conditions) == {"prob_best", "relative_loss", "leader_impressions", "duration_days"}
    assert conditions["duration_days"]["text"] == "running 0.0 of 7 days"
    assert not conditions["duration_days"]["met"]
    assert conditions["leader_impressions"]["threshold"] == 100
    assert not conditions["prob_best"]["met"], decision
    assert any(m.startswith("P(best) ") and "(or expected loss" in m for m in decision["missing"])
    assert decision["summary"].startswith("No decision yet; leader ")
    forecast = decision["forecast"]
    assert forecast is not None
    assert 0 <= forecast["decided_share"] <= 1
    assert forecast["horizon"] >= 100_000
    uplift = decision["uplift"]
    clicks = sum(d["clicks"] for d in stats["bandits"])
    assert uplift["clicks"] == clicks
    assert uplift["low"] <= uplift["gained"] <= uplift["high"]
    assert uplift["gained"] == pytest.approx(clicks - uplift["even_expected"])
    assert stats["examination"] == []  # one slot: nothing to correct
    assert all(d["ctr_corrected"] is None for d in stats["bandits"])


def test_position_corrected_estimates_appear_with_several_slots(client: TestClient) -> None:
    pid = post_project(client, deals=["A", "B", "C", "D"], slots=3)["project_id"]
    for visitor in range(60):
        response = ranked(client, pid, f"v-{visitor}")
        first = response.json()["deals"][0]
        assert client.post("/api/clicks", json={"token": first["click_token"]}).is_success
    stats = client.get(f"/api/projects/{pid}/stats", headers=ADMIN).json()
    examination = stats["examination"]
    assert len(examination) == 3
    assert examination[0] == 1.0
    assert all(0 <= e <= 1 for e in examination)
    for deal in stats["bandits"]:
        assert deal["ci_low_corrected"] <= deal["ctr_corrected"] <= deal["ci_high_corrected"]
