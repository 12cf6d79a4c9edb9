"""Rate limits on both storages (in-process memory and the real Redis): every abusive pattern
gets 429 with ``Retry-After`` and a JSON ``{"detail": ...}`` as soon as its limit is spent,
without waiting for a window to pass; ordinary use on either side of it is untouched."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.factories import ADMIN, post_project, post_user
from tests.support.rate_limits import limited_client

HIGH = "1000000/second"


def assert_refused(response: httpx.Response, window: int) -> None:
    """429, with the seconds until the window frees (at most the window), as JSON."""
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["Retry-After"]) <= window
    assert "too many" in response.json()["detail"]


def rank(client: TestClient, project_id: int, customer: int) -> httpx.Response:
    return client.post(f"/api/projects/{project_id}/rank", json={"customer_id": customer, "k": 1})


@pytest.fixture
def admin_limited(
    configured: str, monkeypatch: pytest.MonkeyPatch, storage: str
) -> Iterator[TestClient]:
    with limited_client(monkeypatch, storage, admin_failures_per_ip="10/minute") as client:
        yield client


def test_wrong_admin_tokens_get_429_after_the_limit_and_the_right_token_still_works(
    admin_limited: TestClient,
) -> None:
    client = admin_limited
    wrong = {"Authorization": "Bearer not-the-token"}
    answers = [client.get("/api/projects", headers=wrong).status_code for _ in range(10)]
    assert answers == [401] * 10
    first_refusal = client.get("/api/projects", headers=wrong)
    assert_refused(first_refusal, 60)
    assert client.get("/api/projects").status_code == 429  # no token at all is a failure too
    assert client.get("/api/projects", headers=ADMIN).status_code == 200  # never limited
    refused = [client.get("/api/users", headers=wrong).status_code for _ in range(40)]
    assert refused == [429] * 40
    for _ in range(20):  # the right token is neither counted nor refused
        assert client.get("/api/projects", headers=ADMIN).status_code == 200


def test_rank_floods_from_one_address_get_429(
    configured: str, monkeypatch: pytest.MonkeyPatch, storage: str
) -> None:
    with limited_client(
        monkeypatch, storage, rank_per_ip="5/minute", rank_per_customer=HIGH
    ) as client:
        pid = post_project(client, deals=3)["project_id"]
        customers = [post_user(client, f"c{i}@example.com") for i in range(7)]
        answers = [rank(client, pid, c).status_code for c in customers[:5]]
        assert answers == [200] * 5  # five customers, one address
        assert_refused(rank(client, pid, customers[5]), 60)
        assert rank(client, pid, customers[6]).status_code == 429
        # Refused ranks logged nothing.
        stats = client.get(f"/api/projects/{pid}/stats", headers=ADMIN).json()
        assert sum(d["impressions"] for d in stats["bandits"]) == 5


def test_rank_floods_for_one_customer_get_429_and_others_still_rank(
    configured: str, monkeypatch: pytest.MonkeyPatch, storage: str
) -> None:
    with limited_client(
        monkeypatch, storage, rank_per_ip=HIGH, rank_per_customer="5/hour"
    ) as client:
        pid = post_project(client, deals=3)["project_id"]
        greedy, other = post_user(client, "greedy@example.com"), post_user(client, "o@example.com")
        assert [rank(client, pid, greedy).status_code for _ in range(5)] == [200] * 5
        assert_refused(rank(client, pid, greedy), 3600)
        assert [rank(client, pid, greedy).status_code for _ in range(20)] == [429] * 20
        assert rank(client, pid, other).status_code == 200


def test_click_floods_from_one_address_get_429(
    configured: str, monkeypatch: pytest.MonkeyPatch, storage: str
) -> None:
    with limited_client(monkeypatch, storage, click_per_ip="5/minute") as client:
        pid = post_project(client, deals=3)["project_id"]
        customer = post_user(client)
        shown = [rank(client, pid, customer).json()["deals"][0] for _ in range(8)]
        clicks = [client.post(f"/api/transactions/{d['transaction_id']}/click") for d in shown[:5]]
        assert [c.status_code for c in clicks] == [200] * 5
        assert_refused(client.post(f"/api/transactions/{shown[5]['transaction_id']}/click"), 60)
        stats = client.get(f"/api/projects/{pid}/stats", headers=ADMIN).json()
        assert sum(d["clicks"] for d in stats["bandits"]) == 5  # the refused click counted nothing


def test_the_429s_are_documented_on_rank_and_click(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/projects/{project_id}/rank", "/api/transactions/{transaction_id}/click"):
        answer = paths[path]["post"]["responses"]["429"]
        assert "Retry-After" in answer["headers"]
