"""Campaigns and deals: create, list, change, pause, resume, end with a winner."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import ADMIN, post_project


def test_create_with_deals_then_read_it_back(client: TestClient) -> None:
    project = post_project(client, deals=3, slots=2, prior_alpha=2, prior_beta=5)
    assert project["status"] == "running"
    assert project["number_of_bandits"] == 3
    assert project["policy"] == "thompson"
    assert [b["bandit_name"] for b in project["bandits"]] == ["Deal 0", "Deal 1", "Deal 2"]
    assert all((b["alpha"], b["beta"], b["n"]) == (2, 5, 0) for b in project["bandits"])

    fetched = client.get(f"/api/projects/{project['project_id']}", headers=ADMIN).json()
    assert fetched == project
    arms = client.get(f"/api/projects/{project['project_id']}/bandits", headers=ADMIN).json()
    assert arms == project["bandits"]


def test_listing_newest_first_and_filtered_by_status(client: TestClient) -> None:
    first = post_project(client)
    second = post_project(client)
    client.patch(f"/api/projects/{first['project_id']}", json={"status": "paused"}, headers=ADMIN)
    page = client.get("/api/projects", headers=ADMIN).json()
    assert [p["project_id"] for p in page["items"]] == [second["project_id"], first["project_id"]]
    paused = client.get("/api/projects?status=paused", headers=ADMIN).json()
    assert [p["project_id"] for p in paused["items"]] == [first["project_id"]]
    assert client.get("/api/projects?status=sleeping", headers=ADMIN).status_code == 422


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"policy": "greedy"}, "policy"),
        ({"slots": 0}, "slots"),
        ({"epsilon": 1.5}, "epsilon"),
        ({"prior_alpha": 0}, "prior_alpha"),
        ({"project_name": " "}, "project_name"),
        ({"bandits": [{"bandit_name": "a", "price": "-1"}]}, "bandits"),
        ({"bandits": [{"bandit_name": "a", "image_url": "javascript:alert(1)"}]}, "bandits"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_project_is_422_naming_the_field(
    client: TestClient, fields: dict[str, Any], field: str
) -> None:
    body = {"project_name": "p", **fields}
    response = client.post("/api/projects", json=body, headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][1] == field


def test_duplicate_deal_names_are_409(client: TestClient) -> None:
    body = {"project_name": "p", "bandits": [{"bandit_name": "a"}, {"bandit_name": "a"}]}
    assert client.post("/api/projects", json=body, headers=ADMIN).status_code == 409
    assert client.get("/api/projects", headers=ADMIN).json()["total"] == 0
    project = post_project(client, deals=1)
    again = client.post(
        f"/api/projects/{project['project_id']}/bandits",
        json={"bandit_name": "Deal 0"},
        headers=ADMIN,
    )
    assert again.status_code == 409


def test_pause_resume_and_end_with_a_winner(client: TestClient) -> None:
    project = post_project(client)
    url = f"/api/projects/{project['project_id']}"
    winner = project["bandits"][1]["bandit_id"]
    assert client.patch(url, json={"status": "paused"}, headers=ADMIN).json()["status"] == "paused"
    assert (
        client.patch(url, json={"status": "running"}, headers=ADMIN).json()["status"] == "running"
    )
    early = client.patch(url, json={"winner_bandit_id": winner}, headers=ADMIN)
    assert early.status_code == 409
    assert "when the campaign ends" in early.json()["detail"]
    ended = client.patch(
        url, json={"status": "ended", "winner_bandit_id": winner}, headers=ADMIN
    ).json()
    assert (ended["status"], ended["winner_bandit_id"]) == ("ended", winner)
    assert ended["ended_at"] is not None
    resumed = client.patch(url, json={"status": "running"}, headers=ADMIN)
    assert resumed.status_code == 409
    assert "cannot become running" in resumed.json()["detail"]


def test_a_winner_must_be_a_deal_of_the_project(client: TestClient) -> None:
    project = post_project(client)
    other = post_project(client)
    response = client.patch(
        f"/api/projects/{project['project_id']}",
        json={"status": "ended", "winner_bandit_id": other["bandits"][0]["bandit_id"]},
        headers=ADMIN,
    )
    assert response.status_code == 400
    assert (
        client.get(f"/api/projects/{project['project_id']}", headers=ADMIN).json()["status"]
        == "running"
    )


def test_patch_changes_only_what_is_sent_and_refuses_nulls(client: TestClient) -> None:
    project = post_project(client, project_description="old")
    url = f"/api/projects/{project['project_id']}"
    changed = client.patch(url, json={"slots": 2, "policy": "ucb1"}, headers=ADMIN).json()
    assert (changed["slots"], changed["policy"], changed["project_description"]) == (
        2,
        "ucb1",
        "old",
    )
    assert client.patch(url, json={"project_description": None}, headers=ADMIN).status_code == 200
    refused = client.patch(url, json={"project_name": None}, headers=ADMIN)
    assert refused.status_code == 422
    assert "project_name may not be null" in refused.json()["detail"][0]["msg"]


def test_add_and_deactivate_deals_while_running(client: TestClient) -> None:
    project = post_project(client, deals=2)
    pid = project["project_id"]
    added = client.post(
        f"/api/projects/{pid}/bandits",
        json={"bandit_name": "Ginger", "emoji": "🫚", "price": "0.99"},
        headers=ADMIN,
    )
    assert added.status_code == 201
    assert (added.json()["alpha"], added.json()["beta"]) == (1, 1)
    bandit_id = added.json()["bandit_id"]
    off = client.patch(f"/api/bandits/{bandit_id}", json={"active": False}, headers=ADMIN)
    assert off.json()["active"] is False
    renamed = client.patch(f"/api/bandits/{bandit_id}", json={"bandit_name": "Root"}, headers=ADMIN)
    assert renamed.json()["bandit_name"] == "Root"
    clash = client.patch(f"/api/bandits/{bandit_id}", json={"bandit_name": "Deal 0"}, headers=ADMIN)
    assert clash.status_code == 409
    assert client.get(f"/api/projects/{pid}", headers=ADMIN).json()["number_of_bandits"] == 3


def test_deals_cannot_be_added_to_an_ended_campaign(client: TestClient) -> None:
    project = post_project(client)
    pid = project["project_id"]
    client.patch(f"/api/projects/{pid}", json={"status": "ended"}, headers=ADMIN)
    response = client.post(f"/api/projects/{pid}/bandits", json={"bandit_name": "x"}, headers=ADMIN)
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/api/projects/999", None),
        ("patch", "/api/projects/999", {"slots": 2}),
        ("get", "/api/projects/999/bandits", None),
        ("post", "/api/projects/999/bandits", {"bandit_name": "x"}),
        ("patch", "/api/bandits/999", {"bandit_name": "x"}),
        ("get", "/api/projects/999/stats", None),
        ("get", "/api/projects/999/timeseries", None),
        ("get", "/api/projects/999/transactions.csv", None),
    ],
)
def test_unknown_ids_are_404(
    client: TestClient, method: str, url: str, body: dict[str, object] | None
) -> None:
    response = client.request(method, url, json=body, headers=ADMIN)
    assert response.status_code == 404
    assert "999 does not exist" in response.json()["detail"]


def test_ids_past_the_column_range_are_422_not_500(client: TestClient) -> None:
    response = client.get("/api/projects/99999999999999999999", headers=ADMIN)
    assert response.status_code == 422


def test_currency_defaults_to_eur_and_changes_only_to_an_iso_code(client: TestClient) -> None:
    project = post_project(client)
    assert project["currency"] == "EUR"
    url = f"/api/projects/{project['project_id']}"
    assert client.patch(url, json={"currency": "GBP"}, headers=ADMIN).json()["currency"] == "GBP"
    for bad in ("gbp", "POUND", ""):
        refused = client.patch(url, json={"currency": bad}, headers=ADMIN)
        assert refused.status_code == 422, bad
        assert refused.json()["detail"][0]["loc"] == ["body", "currency"]
    cleared = client.patch(url, json={"currency": None}, headers=ADMIN)
    assert cleared.status_code == 422
    assert "currency may not be null" in cleared.json()["detail"][0]["msg"]
    assert client.get(url, headers=ADMIN).json()["currency"] == "GBP"
