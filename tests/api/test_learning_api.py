"""The learning loop over HTTP: rank, click, and the accounting that follows."""

from __future__ import annotations

import random
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hotdeals.cli import app as cli
from tests.factories import ADMIN, post_project, post_user


def rank(client: TestClient, project_id: int, **body: object) -> dict[str, Any]:
    response = client.post(f"/api/projects/{project_id}/rank", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def arms(client: TestClient, project_id: int) -> dict[int, dict[str, float]]:
    listed = client.get(f"/api/projects/{project_id}/bandits", headers=ADMIN).json()
    return {b["bandit_id"]: b for b in listed}


def test_rank_shows_the_projects_slots_of_distinct_deals_and_logs_them(client: TestClient) -> None:
    customer = post_user(client)
    project = post_project(client, deals=6, slots=3)
    answer = rank(client, project["project_id"], customer_id=customer)
    deals = answer["deals"]
    assert [d["position"] for d in deals] == [1, 2, 3]
    assert len({d["bandit_id"] for d in deals}) == 3
    assert len({d["transaction_id"] for d in deals}) == 3
    assert set(answer) == {"project_id", "customer_id", "deals"}  # no email, no name
    after = arms(client, project["project_id"])
    for deal in deals:
        assert (after[deal["bandit_id"]]["n"], after[deal["bandit_id"]]["beta"]) == (1, 2)
    assert sum(a["n"] for a in after.values()) == 3


def test_k_is_capped_at_the_active_deals_and_bounded(client: TestClient) -> None:
    customer = post_user(client)
    project = post_project(client, deals=2)
    pid = project["project_id"]
    assert len(rank(client, pid, customer_id=customer, k=10)["deals"]) == 2
    assert len(rank(client, pid, customer_id=customer, k=1)["deals"]) == 1
    for bad in (0, 21, "three"):
        response = client.post(
            f"/api/projects/{pid}/rank", json={"customer_id": customer, "k": bad}
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "k"]


def test_a_deactivated_deal_is_never_ranked_and_a_new_one_is_explored(client: TestClient) -> None:
    customer = post_user(client)
    project = post_project(client, deals=3, policy="ucb1")
    pid = project["project_id"]
    off = project["bandits"][0]["bandit_id"]
    client.patch(f"/api/bandits/{off}", json={"active": False}, headers=ADMIN)
    for _ in range(10):
        shown = {d["bandit_id"] for d in rank(client, pid, customer_id=customer, k=2)["deals"]}
        assert off not in shown
    new = client.post(f"/api/projects/{pid}/bandits", json={"bandit_name": "New"}, headers=ADMIN)
    first = rank(client, pid, customer_id=customer, k=1)["deals"][0]
    assert first["bandit_id"] == new.json()["bandit_id"]  # UCB1 tries an unpulled arm first


@pytest.mark.parametrize("status", ["paused", "ended"])
def test_rank_on_a_stopped_project_is_409(client: TestClient, status: str) -> None:
    customer = post_user(client)
    pid = post_project(client)["project_id"]
    client.patch(f"/api/projects/{pid}", json={"status": status}, headers=ADMIN)
    response = client.post(f"/api/projects/{pid}/rank", json={"customer_id": customer})
    assert response.status_code == 409
    assert f"is {status}" in response.json()["detail"]


def test_rank_with_no_active_deal_is_409(client: TestClient) -> None:
    customer = post_user(client)
    pid = post_project(client, deals=0)["project_id"]
    response = client.post(f"/api/projects/{pid}/rank", json={"customer_id": customer})
    assert response.status_code == 409
    assert "no active deals" in response.json()["detail"]


def test_rank_for_unknown_project_or_customer_is_404(client: TestClient) -> None:
    customer = post_user(client)
    pid = post_project(client)["project_id"]
    unknown_project = client.post("/api/projects/999/rank", json={"customer_id": customer})
    assert unknown_project.status_code == 404
    unknown_customer = client.post(f"/api/projects/{pid}/rank", json={"customer_id": 999})
    assert unknown_customer.status_code == 404
    assert "customer 999" in unknown_customer.json()["detail"]
    assert sum(a["n"] for a in arms(client, pid).values()) == 0


def test_idempotency_key_returns_the_same_answer_and_logs_once(client: TestClient) -> None:
    customer = post_user(client)
    other = post_user(client, "bob@example.com", "Bob")
    pid = post_project(client)["project_id"]
    url = f"/api/projects/{pid}/rank"
    first = client.post(url, json={"customer_id": customer}, headers={"Idempotency-Key": "k-1"})
    again = client.post(url, json={"customer_id": customer}, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert sum(a["n"] for a in arms(client, pid).values()) == 3
    # Still answered after the project was paused: the retry is of an earlier success.
    client.patch(f"/api/projects/{pid}", json={"status": "paused"}, headers=ADMIN)
    late = client.post(url, json={"customer_id": customer}, headers={"Idempotency-Key": "k-1"})
    assert late.json() == first.json()
    reused = client.post(url, json={"customer_id": other}, headers={"Idempotency-Key": "k-1"})
    assert reused.status_code == 409
    too_long = client.post(
        url, json={"customer_id": customer}, headers={"Idempotency-Key": "x" * 201}
    )
    assert too_long.status_code == 422


def test_a_failed_rank_does_not_burn_its_idempotency_key(client: TestClient) -> None:
    customer = post_user(client)
    pid = post_project(client)["project_id"]
    url = f"/api/projects/{pid}/rank"
    client.patch(f"/api/projects/{pid}", json={"status": "paused"}, headers=ADMIN)
    refused = client.post(url, json={"customer_id": customer}, headers={"Idempotency-Key": "k"})
    assert refused.status_code == 409
    client.patch(f"/api/projects/{pid}", json={"status": "running"}, headers=ADMIN)
    accepted = client.post(url, json={"customer_id": customer}, headers={"Idempotency-Key": "k"})
    assert accepted.status_code == 200


def test_click_counts_once_and_says_so(client: TestClient) -> None:
    customer = post_user(client)
    pid = post_project(client)["project_id"]
    deal = rank(client, pid, customer_id=customer)["deals"][0]
    url = f"/api/transactions/{deal['transaction_id']}/click"
    first, second = client.post(url).json(), client.post(url).json()
    assert first == {
        "transaction_id": deal["transaction_id"],
        "bandit_id": deal["bandit_id"],
        "clicked": True,
        "already_recorded": False,
    }
    assert second["already_recorded"] is True
    arm = arms(client, pid)[deal["bandit_id"]]
    assert (arm["n"], arm["number_of_success"], arm["alpha"], arm["beta"]) == (1, 1, 2, 1)


def test_click_on_unknown_transaction_is_404(client: TestClient) -> None:
    response = client.post("/api/transactions/424242/click")
    assert response.status_code == 404
    assert response.json() == {"detail": "transaction 424242 does not exist"}


def test_accounting_holds_after_random_ranks_and_clicks(client: TestClient) -> None:
    chooser = random.Random(7)
    customers = [post_user(client, f"c{i}@example.com", f"C{i}") for i in range(3)]
    pid = post_project(client, deals=5, slots=2)["project_id"]
    shown: list[int] = []
    clicked: set[int] = set()
    for _ in range(60):
        if shown and chooser.random() < 0.4:
            transaction = chooser.choice(shown)
            client.post(f"/api/transactions/{transaction}/click")
            clicked.add(transaction)
        else:
            answer = rank(client, pid, customer_id=chooser.choice(customers))
            shown.extend(d["transaction_id"] for d in answer["deals"])
    final = arms(client, pid).values()
    assert sum(a["n"] for a in final) == len(shown)
    assert sum(a["number_of_success"] for a in final) == len(clicked)
    check = CliRunner().invoke(cli, ["db-check"])
    assert check.exit_code == 0, check.output
