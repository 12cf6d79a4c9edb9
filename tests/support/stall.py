"""A database stall under load, for the stall test and ``bench.stall_check``.

Another connection holds ``LOCK TABLE bandits IN ACCESS EXCLUSIVE MODE`` for a while, as an
operator's migration or a runaway analyst query would, while concurrent shoppers rank and click
and a probe polls ``/readyz``; :class:`Run` keeps what they saw, by phase. The shoppers are
shop pages: they rank by visitor id and click with the rank's click tokens, as the strip does.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
from sqlalchemy import select, text

from hotdeals.db.engine import make_engine
from hotdeals.db.models import Transaction
from tests.support.server import ServerProcess, run_db_check

DEADLINE_S = 3.0  # HOTDEALS_REQUEST_DEADLINE_MS's default
# The acceptance: every answer within the deadline + 1 s, as the client sees it. The client runs
# in a process of its own without coverage (``bench.stall_check``): traced by coverage on a busy
# 2-core machine, its own event loop once added a second to what it measured.
BOUND_S = DEADLINE_S + 1.0


@dataclass
class Run:
    """What the clients saw, by phase (before, during, after the stall)."""

    phase: str = "before"
    statuses: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    slowest: float = 0.0
    slow_answers: list[str] = field(default_factory=list)
    missing_retry_after: int = 0
    shown: set[int] = field(default_factory=set)
    shown_in_order: list[int] = field(default_factory=list)
    tokens: dict[int, str] = field(default_factory=dict)  # click token by transaction id
    clicked: set[int] = field(default_factory=set)
    readiness: list[tuple[str, int]] = field(default_factory=list)
    ranks_ok_after: int = 0

    def answered(self, kind: str, response: httpx.Response, seconds: float) -> None:
        self.statuses[(self.phase, kind, response.status_code)] += 1
        self.slowest = max(self.slowest, seconds)
        if seconds > BOUND_S:
            self.slow_answers.append(
                f"{kind} {response.status_code} in {seconds:.2f} s ({self.phase}):"
                f" {response.text[:200]}"
            )
        if response.status_code == 503 and "Retry-After" not in response.headers:
            self.missing_retry_after += 1


async def stall_under_load(
    server: ServerProcess,
    database_url: str,
    project_id: int,
    customers: Sequence[int | str],
    *,
    stall: float,
    clients: int = 16,
    after_ranks: int = 200,
) -> Run:
    """``clients`` shoppers rank and click (half the time, a random acknowledged impression)
    while a readiness probe polls ``/readyz``; once 300 impressions are acknowledged the deal
    table is locked for ``stall`` seconds; the run ends when ``after_ranks`` ranks succeeded
    after the release and ``/readyz`` says 200 again (within 120 s + ``stall``).

    Each of ``customers`` shops as a visitor of its own (``stall-shopper-<customer>``)."""
    run = Run()
    done = asyncio.Event()
    visitors = [f"stall-shopper-{customer}" for customer in customers]

    async def shopper(number: int, client: httpx.AsyncClient) -> None:
        rng = random.Random(number)
        while not done.is_set():
            started = time.monotonic()
            rank = await client.post(
                f"/api/projects/{project_id}/rank", json={"visitor_id": rng.choice(visitors)}
            )
            run.answered("rank", rank, time.monotonic() - started)
            if rank.status_code == 200:
                deals = rank.json()["deals"]
                tids = [d["transaction_id"] for d in deals]
                run.tokens.update((d["transaction_id"], d["click_token"]) for d in deals)
                run.shown.update(tids)
                run.shown_in_order.extend(tids)
                if run.phase == "after":
                    run.ranks_ok_after += 1
            if run.shown and rng.random() < 0.5:
                tid = rng.choice(run.shown_in_order)
                started = time.monotonic()
                click = await client.post("/api/clicks", json={"token": run.tokens[tid]})
                run.answered("click", click, time.monotonic() - started)
                if click.status_code == 200 and not click.json()["already_recorded"]:
                    run.clicked.add(tid)

    async def prober(client: httpx.AsyncClient) -> None:
        while not done.is_set():
            ready = await client.get("/readyz")
            run.readiness.append((run.phase, ready.status_code))
            await asyncio.sleep(0.2)  # a readiness probe's period, not synchronisation

    def lock() -> None:
        holder.execute(text("LOCK TABLE bandits IN ACCESS EXCLUSIVE MODE"))

    engine = make_engine(database_url)
    holder = engine.connect()
    size = clients + 1
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    try:
        async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=30) as c:
            tasks = [asyncio.ensure_future(shopper(i, c)) for i in range(clients)]
            tasks.append(asyncio.ensure_future(prober(c)))
            async with asyncio.timeout(120 + stall):
                while len(run.shown) < 300:  # warm: snapshot cached, writer running
                    await asyncio.sleep(0.05)  # checks the tally (bounded by the timeout)
                await asyncio.to_thread(lock)
                run.phase = "during"
                await asyncio.sleep(stall)  # the stall's length: the fault under test
                await asyncio.to_thread(holder.rollback)
                run.phase = "after"
                while run.ranks_ok_after < after_ranks or run.readiness[-1] != ("after", 200):
                    await asyncio.sleep(0.05)  # checks the tally (bounded by the timeout)
            done.set()
            await asyncio.gather(*tasks)
    finally:
        holder.close()
        engine.dispose()
    return run


def problems(run: Run, server: ServerProcess, database_url: str) -> list[str]:
    """Everything the stall acceptance requires that ``run``, the server (still the same
    process, no traceback logged) and the database did not show; empty when it held."""
    found: list[str] = []
    if server.process is None or server.process.poll() is not None:
        found.append("the server is no longer running: the service did not resume by itself")
    server_log = server.log_tail(1_000_000)
    summary = f"statuses {dict(run.statuses)}, readiness {dict(Counter(run.readiness))}"
    if run.slow_answers:
        found.append(f"answers later than {BOUND_S:g} s: {run.slow_answers[:10]}")
    if not {status for (_, _, status) in run.statuses} <= {200, 503}:
        found.append(f"answers other than 200 and 503: {summary}")
    if run.missing_retry_after:
        found.append(f"{run.missing_retry_after} 503 answers without Retry-After")
    if not any(phase == "during" and status == 503 for (phase, _, status) in run.statuses):
        found.append(f"no 503 during the stall (was the lock held?): {summary}")
    if ("during", 503) not in run.readiness:
        found.append(f"/readyz never said 503 during the stall: {summary}")
    if not run.readiness or run.readiness[-1] != ("after", 200):
        found.append(f"/readyz did not say 200 after the stall: {summary}")
    if "Traceback" in server_log:
        found.append("the server logged a traceback")
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            logged = dict(
                connection.execute(select(Transaction.transaction_id, Transaction.clicked)).all()
            )
    finally:
        engine.dispose()
    if lost := run.shown - logged.keys():
        found.append(f"{len(lost)} acknowledged impressions are not in the log")
    if unclicked := [t for t in run.clicked if not logged.get(t)]:
        found.append(f"{len(unclicked)} acknowledged clicks are not in the log")
    check = run_db_check(database_url)
    if check.returncode != 0:
        found.append(f"db-check: {check.stdout} {check.stderr}")
    return found


def figures(run: Run) -> dict[str, object]:
    """What a run saw, as JSON-ready figures."""
    return {
        "answers": {f"{p} {k} {s}": n for (p, k, s), n in sorted(run.statuses.items())},
        "slowest_answer_s": round(run.slowest, 3),
        "bound_s": BOUND_S,
        "readyz": {f"{p} {s}": n for (p, s), n in sorted(Counter(run.readiness).items())},
        "impressions_acknowledged": len(run.shown),
        "clicks_acknowledged": len(run.clicked),
    }
