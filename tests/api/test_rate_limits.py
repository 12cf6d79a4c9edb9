"""Rate limits on both storages (in-process memory and the real Redis): every abusive pattern
gets 429 with ``Retry-After`` and a JSON ``{"detail": ...}`` as soon as its limit is spent,
without waiting for a window to pass; ordinary use on either side of it is untouched.

Pages rank by visitor id and click by token (the token carries the customer, so clicks are
limited per customer too); new visitor ids are limited per address."""

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


def rank(client: TestClient, project_id: int, visitor: str) -> httpx.Response:
    return client.post(f"/api/projects/{project_id}/rank", json={"visitor_id": visitor, "k": 1})


def click(client: TestClient, deal: dict[str, object]) -> httpx.Response:
    return client.post("/api/clicks", json={"token": deal["click_token"]})


def clicks_counted(client: TestClient, project_id: int) -> int:
    stats = client.get(f"/api/projects/{project_id}/stats", headers=ADMIN).json()
    return sum(d["clicks"] for d in stats["bandits"])


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
        customers = [f"v-{i}" for i in range(7)]
        answers = [rank(client, pid, c).status_code for c in customers[:5]]
        assert answers == [200] * 5  # five visitors, one address
        assert_refused(rank(client, pid, customers[5]), 60)
        assert rank(client, pid, customers[6]).status_code == 429
        # A backend's ranks come from its one address too.
        backend = client.post(
            f"/api/projects/{pid}/rank", json={"customer_id": post_user(client)}, headers=ADMIN
        )
        assert_refused(backend, 60)
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
        greedy, other = "v-greedy", "v-other"
        assert [rank(client, pid, greedy).status_code for _ in range(5)] == [200] * 5
        assert_refused(rank(client, pid, greedy), 3600)
        assert [rank(client, pid, greedy).status_code for _ in range(20)] == [429] * 20
        assert rank(client, pid, other).status_code == 200


def test_click_floods_from_one_address_get_429(
    configured: str, monkeypatch: pytest.MonkeyPatch, storage: str
) -> None:
    with limited_client(monkeypatch, storage, click_per_ip="5/minute") as client:
        pid = post_project(client, deals=3)["project_id"]
        shown = [rank(client, pid, f"v-{i}").json()["deals"][0] for i in range(8)]
        assert [click(client, d).status_code for d in shown[:5]] == [200] * 5
        assert_refused(click(client, shown[5]), 60)
        by_id = f"/api/transactions/{shown[6]['transaction_id']}/click"
        assert_refused(client.post(by_id, headers=ADMIN), 60)  # the back office's too
        assert clicks_counted(client, pid) == 5  # the refused clicks counted nothing


def test_click_floods_for_one_customer_get_429_and_others_still_click(
    configured: str, monkeypatch: pytest.MonkeyPatch, storage: str
) -> None:
    """The token says whose impression it is: one visitor's clicks are limited, however many
    addresses (here one, not limited) send them."""
    with limited_client(
        monkeypatch, storage, click_per_ip=HIGH, click_per_customer="5/hour"
    ) as client:
        pid = post_project(client, deals=3)["project_id"]
        greedy = [rank(client, pid, "v-greedy").json()["deals"][0] for _ in range(8)]
        other = rank(client, pid, "v-other").json()["deals"][0]
        assert [click(client, d).status_code for d in greedy[:5]] == [200] * 5
        assert_refused(click(client, greedy[5]), 3600)
        assert [click(client, d).status_code for d in greedy[5:]] == [429] * 3
        assert click(client, other).status_code == 200
        assert clicks_counted(client, pid) == 6


def test_new_visitor_ids_from_one_address_get_429_and_known_ones_still_rank(
    configured: str, monkeypatch: pytest.MonkeyPatch, storage: str
) -> None:
    """A script inventing a visitor id per request (a row each, and a way around the
    per-customer limits) is refused; visitors this worker already knows are not counted."""
    with limited_client(monkeypatch, storage, rank_per_ip=HIGH, visitor_per_ip="5/hour") as client:
        pid = post_project(client, deals=3)["project_id"]
        assert [rank(client, pid, f"v-{i}").status_code for i in range(5)] == [200] * 5
        assert_refused(rank(client, pid, "v-5"), 3600)
        assert [rank(client, pid, f"v-new-{i}").status_code for i in range(10)] == [429] * 10
        assert [rank(client, pid, f"v-{i % 5}").status_code for i in range(20)] == [200] * 20
        users = client.get("/api/users", headers=ADMIN).json()
        assert users["total"] == 5  # refused visitors got no row


def test_the_429s_are_documented_on_rank_and_click(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/projects/{project_id}/rank",
        "/api/clicks",
        "/api/transactions/{transaction_id}/click",
    ):
        answer = paths[path]["post"]["responses"]["429"]
        assert "Retry-After" in answer["headers"]
