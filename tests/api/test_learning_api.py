"""The learning loop over HTTP: rank, click, and the accounting that follows.

A shop's page ranks by ``visitor_id`` and clicks with the rank's ``click_token`` (both open);
a shop's backend ranks by ``customer_id`` and clicks by transaction id with the admin token.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hotdeals.cli import app as cli
from tests.factories import ADMIN, post_project, post_user, without_tokens

DEAL_FIELDS = {
    "position",
    "bandit_id",
    "bandit_name",
    "transaction_id",
    "click_token",
    "description",
    "price",
    "currency",
    "emoji",
    "image_url",
}


def rank(client: TestClient, project_id: int, **body: object) -> dict[str, Any]:
    """A rank answered 200; by ``customer_id`` it goes with the admin token, as it must."""
    headers = ADMIN if "customer_id" in body else {}
    response = client.post(f"/api/projects/{project_id}/rank", json=body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def click(client: TestClient, deal: dict[str, Any]) -> dict[str, Any]:
    """The page's click: the deal's token to the open endpoint, answered 200."""
    response = client.post("/api/clicks", json={"token": deal["click_token"]})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def arms(client: TestClient, project_id: int) -> dict[int, dict[str, float]]:
    listed = client.get(f"/api/projects/{project_id}/bandits", headers=ADMIN).json()
    return {b["bandit_id"]: b for b in listed}


def test_rank_shows_the_projects_slots_of_distinct_deals_and_logs_them(client: TestClient) -> None:
    project = post_project(client, deals=6, slots=3)
    answer = rank(client, project["project_id"], visitor_id="v-ann")
    deals = answer["deals"]
    assert [d["position"] for d in deals] == [1, 2, 3]
    assert len({d["bandit_id"] for d in deals}) == 3
    assert len({d["transaction_id"] for d in deals}) == 3
    assert len({d["click_token"] for d in deals}) == 3
    # Everything a page draws, and no email, no name, no customer id.
    assert answer.keys() == {"project_id", "visitor_id", "customer_id", "deals"}
    assert (answer["visitor_id"], answer["customer_id"]) == ("v-ann", None)
    for deal in deals:
        assert deal.keys() == DEAL_FIELDS
        assert (deal["price"], deal["currency"]) == ("1.99", "EUR")
        assert deal["description"].startswith("Offer number ")
    after = arms(client, project["project_id"])
    for deal in deals:
        assert (after[deal["bandit_id"]]["n"], after[deal["bandit_id"]]["beta"]) == (1, 2)
    assert sum(a["n"] for a in after.values()) == 3


def test_a_backend_ranks_by_customer_with_the_admin_token(client: TestClient) -> None:
    customer = post_user(client)
    pid = post_project(client, deals=3, slots=2)["project_id"]
    url = f"/api/projects/{pid}/rank"
    assert client.post(url, json={"customer_id": customer}).status_code == 401
    answer = rank(client, pid, customer_id=customer)
    assert (answer["visitor_id"], answer["customer_id"]) == (None, customer)
    assert sum(a["n"] for a in arms(client, pid).values()) == 2  # the refused rank logged nothing


def test_k_is_capped_at_the_active_deals_and_bounded(client: TestClient) -> None:
    project = post_project(client, deals=2)
    pid = project["project_id"]
    assert len(rank(client, pid, visitor_id="v-k", k=10)["deals"]) == 2
    assert len(rank(client, pid, visitor_id="v-k", k=1)["deals"]) == 1
    for bad in (0, 21, "three"):
        response = client.post(f"/api/projects/{pid}/rank", json={"visitor_id": "v-k", "k": bad})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "k"]


def test_a_deactivated_deal_is_never_ranked_and_a_new_one_is_explored(client: TestClient) -> None:
    project = post_project(client, deals=3, policy="ucb1")
    pid = project["project_id"]
    off = project["bandits"][0]["bandit_id"]
    client.patch(f"/api/bandits/{off}", json={"active": False}, headers=ADMIN)
    for _ in range(10):
        shown = {d["bandit_id"] for d in rank(client, pid, visitor_id="v-d", k=2)["deals"]}
        assert off not in shown
    new = client.post(f"/api/projects/{pid}/bandits", json={"bandit_name": "New"}, headers=ADMIN)
    first = rank(client, pid, visitor_id="v-d", k=1)["deals"][0]
    assert first["bandit_id"] == new.json()["bandit_id"]  # UCB1 tries an unpulled arm first


@pytest.mark.parametrize("status", ["paused", "ended"])
def test_rank_on_a_stopped_project_is_409(client: TestClient, status: str) -> None:
    pid = post_project(client)["project_id"]
    client.patch(f"/api/projects/{pid}", json={"status": status}, headers=ADMIN)
    response = client.post(f"/api/projects/{pid}/rank", json={"visitor_id": "v-stop"})
    assert response.status_code == 409
    assert f"is {status}" in response.json()["detail"]


def test_rank_with_no_active_deal_is_409(client: TestClient) -> None:
    pid = post_project(client, deals=0)["project_id"]
    response = client.post(f"/api/projects/{pid}/rank", json={"visitor_id": "v-none"})
    assert response.status_code == 409
    assert "no active deals" in response.json()["detail"]


def test_rank_for_unknown_project_or_customer_is_404(client: TestClient) -> None:
    pid = post_project(client)["project_id"]
    unknown_project = client.post("/api/projects/999/rank", json={"visitor_id": "v-404"})
    assert unknown_project.status_code == 404
    unknown_customer = client.post(
        f"/api/projects/{pid}/rank", json={"customer_id": 999}, headers=ADMIN
    )
    assert unknown_customer.status_code == 404
    assert "customer 999" in unknown_customer.json()["detail"]
    assert sum(a["n"] for a in arms(client, pid).values()) == 0


def test_idempotency_key_returns_the_same_answer_and_logs_once(client: TestClient) -> None:
    pid = post_project(client)["project_id"]
    url = f"/api/projects/{pid}/rank"
    ann, bob = {"visitor_id": "v-ann"}, {"visitor_id": "v-bob"}
    first = client.post(url, json=ann, headers={"Idempotency-Key": "k-1"})
    again = client.post(url, json=ann, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 200
    # The same deals and transactions; the click tokens are issued anew (a fresh lifetime)
    # for the same impressions.
    assert without_tokens(first.json()) == without_tokens(again.json())
    assert sum(a["n"] for a in arms(client, pid).values()) == 3
    replayed = again.json()["deals"][0]
    clicked = client.post("/api/clicks", json={"token": replayed["click_token"]}).json()
    assert clicked["transaction_id"] == first.json()["deals"][0]["transaction_id"]
    # Still answered after the project was paused: the retry is of an earlier success.
    client.patch(f"/api/projects/{pid}", json={"status": "paused"}, headers=ADMIN)
    late = client.post(url, json=ann, headers={"Idempotency-Key": "k-1"})
    assert without_tokens(late.json()) == without_tokens(first.json())
    reused = client.post(url, json=bob, headers={"Idempotency-Key": "k-1"})
    assert reused.status_code == 409
    too_long = client.post(url, json=ann, headers={"Idempotency-Key": "x" * 201})
    assert too_long.status_code == 422


def test_a_failed_rank_does_not_burn_its_idempotency_key(client: TestClient) -> None:
    pid = post_project(client)["project_id"]
    url = f"/api/projects/{pid}/rank"
    client.patch(f"/api/projects/{pid}", json={"status": "paused"}, headers=ADMIN)
    refused = client.post(url, json={"visitor_id": "v-k"}, headers={"Idempotency-Key": "k"})
    assert refused.status_code == 409
    client.patch(f"/api/projects/{pid}", json={"status": "running"}, headers=ADMIN)
    accepted = client.post(url, json={"visitor_id": "v-k"}, headers={"Idempotency-Key": "k"})
    assert accepted.status_code == 200


def test_click_counts_once_and_says_so(client: TestClient) -> None:
    pid = post_project(client)["project_id"]
    deal = rank(client, pid, visitor_id="v-click")["deals"][0]
    first, second = click(client, deal), click(client, deal)
    assert first == {
        "transaction_id": deal["transaction_id"],
        "bandit_id": deal["bandit_id"],
        "clicked": True,
        "already_recorded": False,
    }
    assert second["already_recorded"] is True
    arm = arms(client, pid)[deal["bandit_id"]]
    assert (arm["n"], arm["number_of_success"], arm["alpha"], arm["beta"]) == (1, 1, 2, 1)


def test_the_back_office_clicks_by_id_with_the_admin_token_and_counts_once(
    client: TestClient,
) -> None:
    pid = post_project(client)["project_id"]
    first, second = rank(client, pid, visitor_id="v-office")["deals"][:2]
    url = f"/api/transactions/{first['transaction_id']}/click"
    assert client.post(url).status_code == 401
    by_id = client.post(url, headers=ADMIN).json()
    assert (by_id["transaction_id"], by_id["already_recorded"]) == (first["transaction_id"], False)
    assert click(client, first)["already_recorded"] is True  # one click, whichever path
    assert click(client, second)["already_recorded"] is False
    again = client.post(f"/api/transactions/{second['transaction_id']}/click", headers=ADMIN)
    assert again.json()["already_recorded"] is True
    assert sum(a["number_of_success"] for a in arms(client, pid).values()) == 2


def test_click_on_unknown_transaction_is_404(client: TestClient) -> None:
    response = client.post("/api/transactions/424242/click", headers=ADMIN)
    assert response.status_code == 404
    assert response.json() == {"detail": "transaction 424242 does not exist"}


def test_accounting_holds_after_random_ranks_and_clicks(client: TestClient) -> None:
    """Pages (visitors) and a backend (customers, admin token) rank; clicks come by token and,
    one in four, by id from the back office; every first click counts once."""
    chooser = random.Random(7)
    customers = [post_user(client, f"c{i}@example.com", f"C{i}") for i in range(3)]
    shoppers: list[dict[str, object]] = [{"customer_id": c} for c in customers]
    shoppers += [{"visitor_id": f"v-{i}"} for i in range(3)]
    pid = post_project(client, deals=5, slots=2)["project_id"]
    shown: list[dict[str, Any]] = []
    clicked: set[int] = set()
    for _ in range(60):
        if shown and chooser.random() < 0.4:
            deal = chooser.choice(shown)
            if chooser.random() < 0.25:
                url = f"/api/transactions/{deal['transaction_id']}/click"
                answer = client.post(url, headers=ADMIN).json()
            else:
                answer = click(client, deal)
            assert answer["already_recorded"] is (deal["transaction_id"] in clicked)
            clicked.add(deal["transaction_id"])
        else:
            shown.extend(rank(client, pid, **chooser.choice(shoppers))["deals"])
    final = arms(client, pid).values()
    assert sum(a["n"] for a in final) == len(shown)
    assert sum(a["number_of_success"] for a in final) == len(clicked)
    check = CliRunner().invoke(cli, ["db-check"])
    assert check.exit_code == 0, check.output
