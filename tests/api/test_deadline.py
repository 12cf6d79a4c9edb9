"""Rank and click past their deadline: 503 with Retry-After, and an exact retry.

Another connection holds the deal rows (PostgreSQL: ``SELECT ... FOR UPDATE``; SQLite: a write
transaction) while the request waits for its write. The request answers 503 at its deadline;
its write, already taken by the writer, commits once the rows are released, and a retry with
the same click or the same Idempotency-Key returns the committed result, counted once. The
deadline counts from the request's arrival, noted by the app's outermost middleware.

The ranks are a shop's backend's (by customer id, with the admin token); the clicks are a
page's (by the rank's click token).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hotdeals.app import create_app
from hotdeals.config import Settings
from hotdeals.db.audit import find_mismatches
from hotdeals.db.models import Bandit, Transaction
from hotdeals.errors import ServiceBusy
from hotdeals.http.request_log import ObserveRequests, arrival
from hotdeals.services.learning import LearningLoop
from tests.factories import ADMIN, TEST_ADMIN_TOKEN, make_project, make_user, without_tokens
from tests.support.locks import deal_rows_held

DEADLINE_MS = 1_000  # long enough for the idle writer to take the write before it


def app_client(database_url: str, **settings: Any) -> TestClient:
    """The real app on the test database with these settings (the test's own, not the env's)."""
    return TestClient(
        create_app(
            Settings(
                database_url=database_url,
                hotdeals_admin_token=TEST_ADMIN_TOKEN,
                **settings,
            )
        ),
        raise_server_exceptions=False,
    )


@pytest.fixture
def shop(sessions: sessionmaker[Session]) -> tuple[int, int]:
    with sessions.begin() as session:
        user = make_user(session, "late@example.com", "Late")
        project = make_project(session, deals=["d0", "d1", "d2"], project_name="late", slots=2)
        return project.project_id, user.customer_id


def rank(client: TestClient, project_id: int, customer_id: int) -> httpx.Response:
    """The backend's rank for this customer (with the admin token)."""
    return client.post(
        f"/api/projects/{project_id}/rank", json={"customer_id": customer_id}, headers=ADMIN
    )


def counted(sessions: sessionmaker[Session]) -> tuple[int, int, int]:
    """(impressions logged, sum of n, sum of successes), after checking every counter."""
    with sessions() as session:
        assert find_mismatches(session) == []
        logged = session.scalar(select(func.count()).select_from(Transaction)) or 0
        n = session.scalar(select(func.sum(Bandit.n))) or 0
        successes = session.scalar(select(func.sum(Bandit.number_of_success))) or 0
        return logged, n, successes


# Settings for these tests: a short deadline, a lock wait longer than the test holds the rows.
LONG_LOCKS = {"hotdeals_request_deadline_ms": DEADLINE_MS, "hotdeals_lock_timeout_ms": 60_000}


def test_a_late_click_is_503_and_its_retry_says_already_recorded(
    database_url: str,
    engine: Engine,
    sessions: sessionmaker[Session],
    shop: tuple[int, int],
) -> None:
    project_id, customer_id = shop
    with app_client(database_url, **LONG_LOCKS) as client:
        ranked = rank(client, project_id, customer_id)
        assert ranked.status_code == 200
        token = {"token": ranked.json()["deals"][0]["click_token"]}
        with deal_rows_held(engine):
            late = client.post("/api/clicks", json=token)
            assert late.status_code == 503
            assert late.headers["Retry-After"] == "1"
            assert "may still be recorded" in late.json()["detail"]
            assert "already_recorded" in late.json()["detail"]
        # The click the writer had taken commits once the rows are free; the retry queues
        # behind it in the same writer and finds it.
        retry = client.post("/api/clicks", json=token)
        assert retry.status_code == 200
        assert retry.json()["already_recorded"] is True
    assert counted(sessions) == (2, 2, 1)


def test_a_late_keyed_rank_is_503_and_its_retry_returns_the_committed_ranking(
    database_url: str,
    engine: Engine,
    sessions: sessionmaker[Session],
    shop: tuple[int, int],
) -> None:
    project_id, customer_id = shop
    url = f"/api/projects/{project_id}/rank"
    key = {"Idempotency-Key": "late-rank-1"}
    with app_client(database_url, **LONG_LOCKS) as client:
        with deal_rows_held(engine):
            late = client.post(url, json={"customer_id": customer_id}, headers=key | ADMIN)
            assert late.status_code == 503
            assert late.headers["Retry-After"] == "1"
            assert "same Idempotency-Key" in late.json()["detail"]
        retry = client.post(url, json={"customer_id": customer_id}, headers=key | ADMIN)
        assert retry.status_code == 200
        again = client.post(url, json={"customer_id": customer_id}, headers=key | ADMIN)
        assert without_tokens(again.json()) == without_tokens(retry.json())
    deals = retry.json()["deals"]
    assert len(deals) == 2
    assert counted(sessions) == (2, 2, 0)  # logged once, although asked three times
    with sessions() as session:
        logged = set(session.scalars(select(Transaction.transaction_id)))
    assert logged == {d["transaction_id"] for d in deals}


def test_a_late_rank_without_key_is_503_and_counted_exactly_if_it_commits(
    database_url: str,
    engine: Engine,
    sessions: sessionmaker[Session],
    shop: tuple[int, int],
) -> None:
    project_id, customer_id = shop
    with app_client(database_url, **LONG_LOCKS) as client:
        warm = rank(client, project_id, customer_id)
        assert warm.status_code == 200  # snapshot cached, writer started
        with deal_rows_held(engine):
            late = rank(client, project_id, customer_id)
            assert late.status_code == 503
            assert "may still be logged" in late.json()["detail"]
        after = rank(client, project_id, customer_id)
        assert after.status_code == 200
    # The late ranking was taken by the writer before its deadline, so it is logged (an
    # impression nobody saw, counted like any other): 3 rankings of 2 deals.
    assert counted(sessions) == (6, 6, 0)


def test_a_lock_timeout_is_503_with_retry_after_not_500(
    database_url: str,
    engine: Engine,
    sessions: sessionmaker[Session],
    shop: tuple[int, int],
) -> None:
    project_id, customer_id = shop
    settings = {"hotdeals_request_deadline_ms": 30_000, "hotdeals_lock_timeout_ms": 200}
    with app_client(database_url, **settings) as client:
        ranked = rank(client, project_id, customer_id)
        token = {"token": ranked.json()["deals"][0]["click_token"]}
        with deal_rows_held(engine):
            refused = client.post("/api/clicks", json=token)
            assert refused.status_code == 503
            assert refused.headers["Retry-After"] == "2"
            assert "did not answer in time" in refused.json()["detail"]
        retry = client.post("/api/clicks", json=token)
        assert retry.json()["already_recorded"] is False  # the refused click was rolled back
    assert counted(sessions) == (2, 2, 1)


def test_the_middleware_notes_each_request_s_arrival_in_the_event_loop_s_time() -> None:
    async def seen(request: Request) -> JSONResponse:
        arrived = arrival(request)
        assert arrived is not None
        return JSONResponse({"waited": asyncio.get_running_loop().time() - arrived})

    bare = Starlette(routes=[Route("/", seen)])
    with TestClient(ObserveRequests(bare)) as client:
        waited = client.get("/").json()["waited"]
    assert waited >= 0  # the same clock as the deadline's, read before the handler ran
    outside = Request({"type": "http", "method": "GET", "path": "/", "headers": []})
    assert arrival(outside) is None  # no middleware: the deadline counts from the call


def test_the_deadline_counts_from_the_request_s_arrival_not_from_the_call(
    engine: Engine,
    sessions: sessionmaker[Session],
    shop: tuple[int, int],
) -> None:
    """A request that already waited longer than its deadline before the click was called
    gives up at once, although the deadline itself (60 s) is far longer than the lock held."""
    project_id, customer_id = shop
    learning = LearningLoop(sessions, np.random.default_rng(1), deadline=60.0)

    async def scenario() -> tuple[bool, bool]:
        ranked = await learning.rank(project_id, customer_id)
        tid = ranked.deals[0].transaction_id
        with deal_rows_held(engine):
            long_ago = asyncio.get_running_loop().time() - 61.0
            try:
                await learning.click(tid, arrived=long_ago)
            except ServiceBusy:
                refused = True
            else:
                refused = False
        retry = await learning.click(tid)  # waits for the writer: the first click, if taken
        await learning.close()
        return refused, retry.already_recorded

    refused, _ = asyncio.run(scenario())
    assert refused
    assert counted(sessions) == (2, 2, 1)  # counted once, whichever click was written
