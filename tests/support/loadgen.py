"""Concurrent shoppers over HTTP: rank, then click some of what was shown, and keep score.

Every answer is counted by status, so a caller can compare what the server acknowledged with
what the database holds afterwards.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from tests.factories import project_body, user_body
from tests.support.server import admin_headers

T = TypeVar("T")


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coroutine)``, also when this thread already runs an event loop.

    Playwright's sync API (the browser tests' session fixture) leaves one running in the main
    thread, where ``asyncio.run`` refuses to start; the coroutine then gets a thread of its own.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="shoppers") as pool:
        return pool.submit(asyncio.run, coroutine).result()


@dataclass
class Tally:
    """What the server acknowledged: ranks and impressions answered 2xx, first clicks, errors."""

    ranks_ok: int = 0
    impressions_ok: int = 0
    clicks_new: int = 0
    clicks_repeated: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    shown: list[tuple[int, int]] = field(default_factory=list)  # (transaction_id, bandit_id)

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)


def seed_project(
    base_url: str, deals: Sequence[str], *, customers: int = 50, slots: int = 3
) -> tuple[int, list[int], list[int]]:
    """A running project with these deals and some customers; returns their ids."""
    with httpx.Client(base_url=base_url, headers=admin_headers(), timeout=30) as client:
        project = client.post(
            "/api/projects",
            json=project_body(deals, price=None, described=False, project_name="load", slots=slots),
        )
        project.raise_for_status()
        customer_ids = []
        for i in range(customers):
            user = client.post(
                "/api/users", json=user_body(f"shopper{i}@example.com", f"Shopper {i}")
            )
            user.raise_for_status()
            customer_ids.append(user.json()["customer_id"])
    body = project.json()
    return body["project_id"], [b["bandit_id"] for b in body["bandits"]], customer_ids


async def shop(
    base_url: str,
    project_id: int,
    customer_ids: Sequence[int],
    *,
    ranks: int,
    concurrency: int,
    k: int | None = None,
    click: Callable[[random.Random, int, int], bool],
    seed: int = 0,
) -> Tally:
    """``ranks`` rank requests from ``concurrency`` clients; ``click(rng, bandit_id, position)``
    decides whether the shopper clicks each shown deal."""
    tally = Tally()
    remaining = ranks
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def shopper(number: int, client: httpx.AsyncClient) -> None:
        nonlocal remaining
        rng = random.Random(seed * 1000 + number)
        while remaining > 0:
            remaining -= 1
            body: dict[str, int] = {"customer_id": rng.choice(customer_ids)}
            if k is not None:
                body["k"] = k
            try:
                answer = await client.post(f"/api/projects/{project_id}/rank", json=body)
            except httpx.TransportError:
                tally.transport_errors += 1
                continue
            tally.statuses[answer.status_code] += 1
            if answer.status_code != 200:
                continue
            deals = answer.json()["deals"]
            tally.ranks_ok += 1
            tally.impressions_ok += len(deals)
            for deal in deals:
                tally.shown.append((deal["transaction_id"], deal["bandit_id"]))
                if not click(rng, deal["bandit_id"], deal["position"]):
                    continue
                try:
                    response = await client.post(
                        f"/api/transactions/{deal['transaction_id']}/click"
                    )
                except httpx.TransportError:
                    tally.transport_errors += 1
                    continue
                tally.statuses[response.status_code] += 1
                if response.status_code == 200:
                    if response.json()["already_recorded"]:
                        tally.clicks_repeated += 1
                    else:
                        tally.clicks_new += 1

    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        await asyncio.gather(*(shopper(i, client) for i in range(concurrency)))
    return tally


def bandit_totals(base_url: str, project_id: int) -> dict[int, dict[str, float]]:
    """The project's arms as the API reports them, by bandit id."""
    with httpx.Client(base_url=base_url, headers=admin_headers(), timeout=30) as client:
        response = client.get(f"/api/projects/{project_id}/bandits")
        response.raise_for_status()
        return {arm["bandit_id"]: arm for arm in response.json()}
