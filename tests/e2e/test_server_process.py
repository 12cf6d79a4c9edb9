"""The real server under concurrent clients and a crash: nothing acknowledged is ever lost."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import httpx
import pytest
from sqlalchemy import select

from hotdeals.db.engine import make_engine
from hotdeals.db.models import Transaction
from tests.support.concurrency import check
from tests.support.loadgen import run_coroutine, seed_project
from tests.support.server import ServerProcess, admin_headers, run_db_check

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

# The shoppers of the crash test must reach the kill within this time; without a deadline a
# server that stops acknowledging (every answer a 5xx, say) would keep them asking forever.
SHOPPING_DEADLINE = 120.0
# A configured key outlives a restart, and so do the click tokens it signed.
KEYED = {"HOTDEALS_SECRET_KEY": "server-process-test-key-0123456789"}
VISITORS = [f"shopper-{i}" for i in range(50)]


def test_concurrent_ranks_and_clicks_are_each_counted_once(fresh_postgres: str) -> None:
    """The learning-loop acceptance run, smaller: 2 workers, 16 clients, clicks on half."""
    assert check(ranks=800, clients=16, workers=2, url=fresh_postgres) == []


async def shop_until_killed(
    server: ServerProcess, project_id: int, kill_after: int
) -> tuple[dict[int, str], set[int]]:
    """Several shoppers' pages rank (by visitor id) and click (by token); the server is
    SIGKILLed once ``kill_after`` ranks were acknowledged. Returns the acknowledged impressions
    (with their click tokens) and first clicks.

    Fails (an ``AssertionError`` naming what it waited for) if the kill is not reached within
    ``SHOPPING_DEADLINE`` seconds.
    """
    shown: dict[int, str] = {}
    clicked: set[int] = set()
    refused: Counter[int] = Counter()
    killed = asyncio.Event()

    async def shopper(number: int, client: httpx.AsyncClient) -> None:
        rng = random.Random(number)
        while not killed.is_set():
            try:
                answer = await client.post(
                    f"/api/projects/{project_id}/rank", json={"visitor_id": rng.choice(VISITORS)}
                )
                if answer.status_code != 200:
                    refused[answer.status_code] += 1
                    continue
                deals = answer.json()["deals"]
                shown.update((d["transaction_id"], d["click_token"]) for d in deals)
                if len(shown) >= 3 * kill_after and not killed.is_set():
                    killed.set()
                    server.kill()
                    return
                for deal in deals:
                    if rng.random() < 0.5:
                        token = {"token": deal["click_token"]}
                        click = await client.post("/api/clicks", json=token)
                        if click.status_code == 200 and not click.json()["already_recorded"]:
                            clicked.add(deal["transaction_id"])
            except httpx.TransportError:
                return  # the server is gone

    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        try:
            async with asyncio.timeout(SHOPPING_DEADLINE):
                await asyncio.gather(*(shopper(i, client) for i in range(8)))
        except TimeoutError:
            raise AssertionError(
                f"the shoppers did not reach {3 * kill_after} acknowledged impressions (the kill)"
                f" within {SHOPPING_DEADLINE:g} s: {len(shown)} acknowledged, refused ranks by"
                f" status {dict(refused)}; server log {server.log}"
            ) from None
    return shown, clicked


def test_sigkill_loses_no_acknowledged_event(fresh_postgres: str) -> None:
    server = ServerProcess(fresh_postgres, workers=2, extra_env=KEYED)
    server.start()
    try:
        project_id, _, _ = seed_project(server.base_url, [f"Deal {i}" for i in range(6)])
        shown, clicked = run_coroutine(shop_until_killed(server, project_id, 300))
    finally:
        server.stop()
    assert server.process is not None
    assert server.process.returncode == -9  # it really was SIGKILLed mid-traffic
    assert len(shown) >= 900

    engine = make_engine(fresh_postgres)
    with engine.connect() as connection:
        logged = dict(
            connection.execute(select(Transaction.transaction_id, Transaction.clicked)).all()
        )
    engine.dispose()
    assert shown.keys() <= logged.keys(), (
        f"{len(shown.keys() - logged.keys())} acknowledged impressions lost"
    )
    assert all(logged[t] for t in clicked), "an acknowledged click was lost"
    check_after = run_db_check(fresh_postgres)
    assert check_after.returncode == 0, check_after.stderr

    with ServerProcess(fresh_postgres, workers=2, extra_env=KEYED) as again:
        # A page still open from before the crash clicks a deal it was shown then.
        unclicked = next(t for t in sorted(shown) if not logged[t])
        before = httpx.post(f"{again.base_url}/api/clicks", json={"token": shown[unclicked]})
        assert before.status_code == 200, before.text
        assert before.json()["already_recorded"] is False
        answer = httpx.post(
            f"{again.base_url}/api/projects/{project_id}/rank", json={"visitor_id": VISITORS[0]}
        )
        assert answer.status_code == 200
        token = answer.json()["deals"][0]["click_token"]
        click = httpx.post(f"{again.base_url}/api/clicks", json={"token": token})
        assert click.json()["already_recorded"] is False
        stats = httpx.get(
            f"{again.base_url}/api/projects/{project_id}/stats", headers=admin_headers()
        ).json()["bandits"]
        assert sum(b["impressions"] for b in stats) == len(logged) + 3
        assert sum(b["clicks"] for b in stats) == sum(logged.values()) + 2
