"""Concurrent shoppers over HTTP: rank, then click some of what was shown, and keep score.

Every answer is counted by status, so a caller can compare what the server acknowledged with
what the database holds afterwards. They speak to the API through ``hotdeals.client`` with the
admin token, as a shop's backend does (rank by customer id, click by transaction id).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import httpx

from hotdeals.client import AsyncHotDealsClient, HotDealsClient, HotDealsError, NewDeal
from tests.support.server import ADMIN_TOKEN

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
    base_url: str, deals: Sequence[NewDeal | str], *, customers: int = 50, slots: int = 3
) -> tuple[int, list[int], list[int]]:
    """A running project with these deals and some customers; returns their ids."""
    with HotDealsClient(base_url, admin_token=ADMIN_TOKEN, timeout=30) as client:
        project = client.create_project("load", deals=deals, slots=slots)
        customer_ids = [
            client.create_user(f"shopper{i}@example.com", f"Shopper {i}").customer_id
            for i in range(customers)
        ]
    return project.project_id, [b.bandit_id for b in project.bandits], customer_ids


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

    async def shopper(number: int, client: AsyncHotDealsClient) -> None:
        nonlocal remaining
        rng = random.Random(seed * 1000 + number)
        while remaining > 0:
            remaining -= 1
            try:
                ranking = await client.rank(project_id, customer_id=rng.choice(customer_ids), k=k)
            except httpx.TransportError:
                tally.transport_errors += 1
                continue
            except HotDealsError as refused:
                tally.statuses[refused.status_code] += 1
                continue
            tally.statuses[200] += 1
            tally.ranks_ok += 1
            tally.impressions_ok += len(ranking.deals)
            for deal in ranking.deals:
                tally.shown.append((deal.transaction_id, deal.bandit_id))
                if not click(rng, deal.bandit_id, deal.position):
                    continue
                try:
                    clicked = await client.click_by_id(deal.transaction_id)
                except httpx.TransportError:
                    tally.transport_errors += 1
                    continue
                except HotDealsError as refused:
                    tally.statuses[refused.status_code] += 1
                    continue
                tally.statuses[200] += 1
                if clicked.already_recorded:
                    tally.clicks_repeated += 1
                else:
                    tally.clicks_new += 1

    transport = httpx.AsyncHTTPTransport(limits=limits)
    async with AsyncHotDealsClient(
        base_url, admin_token=ADMIN_TOKEN, timeout=60, transport=transport
    ) as client:
        await asyncio.gather(*(shopper(i, client) for i in range(concurrency)))
    return tally


def bandit_totals(base_url: str, project_id: int) -> dict[int, dict[str, float]]:
    """The project's arms as the API reports them (``n``, ``number_of_success``, ...), by
    bandit id."""
    with HotDealsClient(base_url, admin_token=ADMIN_TOKEN, timeout=30) as client:
        return {arm.bandit_id: asdict(arm) for arm in client.list_deals(project_id)}
