"""A failover under load, on loopback with the real parts (``deploy/cluster.sh``): a
pg_auto_failover primary and synchronous standby, PgBouncer in transaction mode behind a router
to the writable node, two ``hotdeals serve`` replicas and HAProxy in front.

Shop pages rank (by visitor id) and click (by token) through HAProxy; once they are warm the
primary's keeper and PostgreSQL are SIGKILLed, like the power cut of its machine; the pages go
on until the service has answered again for a while. Then every acknowledged impression and
click is in the new primary's log, ``db-check`` is clean there, both replicas are ready again by
themselves, every answer was a 200 or a 503, and the outage the clients saw (first failed answer
after the kill to the first successful answer of a request sent after it) is within the
documented bound (docs/scaling.md, "More than one machine (measured on loopback)").
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from hotdeals.db.engine import make_engine
from hotdeals.db.models import Transaction
from tests.support.cluster import Cluster, require_cluster
from tests.support.loadgen import run_coroutine, seed_project
from tests.support.server import run_db_check

pytestmark = [pytest.mark.slow]

CLIENTS = 16
WARM_IMPRESSIONS = 600  # acknowledged before the kill: snapshots cached, writers batching
AFTER_RANKS = 200  # ranks acknowledged after the service answered again
# The documented bound on the outage clients see: the tuned failover takes 8-11 s here (the
# monitor's 3 s to call the primary unhealthy, its 5 s demotion timeout, the promotion), the
# router, PgBouncer and the replicas' readiness add about a second (clients saw 7-12 s in ten
# runs); the margin covers a slower or busier CI machine.
OUTAGE_BOUND_S = 25.0
LOAD_DEADLINE_S = 150.0  # for the whole load, warm-up, kill and recovery included
READY_DEADLINE_S = 30.0  # for each replica's /readyz after the recovery
# A shop page that got an error waits this long before its next request, as a client honouring
# Retry-After would (shorter, to time the outage finely); not synchronisation.
RETRY_PAUSE_S = 0.1
VISITORS = [f"failover-shopper-{i}" for i in range(50)]


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    require_cluster()
    running = Cluster.start()
    try:
        yield running
    finally:
        running.destroy()


@dataclass
class Run:
    """What the shop pages saw, by phase (before the kill, after it)."""

    phase: str = "before"
    statuses: Counter[tuple[str, str, int]] = field(default_factory=Counter)  # 0: no answer
    shown: dict[int, str] = field(default_factory=dict)  # click token by transaction id
    shown_in_order: list[int] = field(default_factory=list)
    clicked: set[int] = field(default_factory=set)
    kill_started: float | None = None
    killed_node: str = ""
    new_primary: str = ""
    writable_after_s: float | None = None
    first_failure: float | None = None
    recovered: float | None = None
    ranks_after: int = 0

    def answered(self, kind: str, status: int, sent: float) -> None:
        now = time.monotonic()
        self.statuses[(self.phase, kind, status)] += 1
        if self.kill_started is None:
            return
        if status != 200 and self.first_failure is None:
            self.first_failure = now
        if status == 200 and self.first_failure is not None and sent > self.first_failure:
            self.recovered = self.recovered or now
            if kind == "rank":
                self.ranks_after += 1

    def figures(self) -> dict[str, object]:
        def since(start: float | None, end: float | None) -> float | None:
            return None if start is None or end is None else round(end - start, 2)

        return {
            "killed": self.killed_node,
            "new_primary": self.new_primary,
            "kill_to_writable_node_s": self.writable_after_s,
            "kill_to_first_failure_s": since(self.kill_started, self.first_failure),
            "client_outage_s": since(self.first_failure, self.recovered),
            "kill_to_service_back_s": since(self.kill_started, self.recovered),
            "answers": {f"{p} {k} {s}": n for (p, k, s), n in sorted(self.statuses.items())},
            "impressions_acknowledged": len(self.shown),
            "clicks_acknowledged": len(self.clicked),
        }


async def shop_through_failover(cluster: Cluster, project_id: int) -> Run:
    """``CLIENTS`` shop pages through HAProxy; the primary is killed once ``WARM_IMPRESSIONS``
    impressions are acknowledged, and the run ends when ``AFTER_RANKS`` ranks sent after the
    first failure succeeded (all within ``LOAD_DEADLINE_S``)."""
    run = Run()
    done = asyncio.Event()

    async def shopper(number: int, client: httpx.AsyncClient) -> None:
        rng = random.Random(number)
        while not done.is_set():
            sent = time.monotonic()
            try:
                rank = await client.post(
                    f"/api/projects/{project_id}/rank", json={"visitor_id": rng.choice(VISITORS)}
                )
            except httpx.TransportError:
                run.answered("rank", 0, sent)
                await asyncio.sleep(RETRY_PAUSE_S)
                continue
            run.answered("rank", rank.status_code, sent)
            if rank.status_code != 200:
                await asyncio.sleep(RETRY_PAUSE_S)
                continue
            deals = rank.json()["deals"]
            run.shown.update((d["transaction_id"], d["click_token"]) for d in deals)
            run.shown_in_order.extend(d["transaction_id"] for d in deals)
            if rng.random() < 0.5:
                await click(rng.choice(run.shown_in_order), client)

    async def click(transaction_id: int, client: httpx.AsyncClient) -> None:
        sent = time.monotonic()
        try:
            answer = await client.post("/api/clicks", json={"token": run.shown[transaction_id]})
        except httpx.TransportError:
            run.answered("click", 0, sent)
            return
        run.answered("click", answer.status_code, sent)
        if answer.status_code == 200:  # a first click, or one already recorded: in the log
            run.clicked.add(transaction_id)
        else:
            await asyncio.sleep(RETRY_PAUSE_S)

    def wait_writable() -> str:
        node = cluster.run("wait-writable", "120")
        assert run.kill_started is not None
        run.writable_after_s = round(time.monotonic() - run.kill_started, 2)
        return node

    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=cluster.lb_url, limits=limits, timeout=30) as client:
        tasks = [asyncio.ensure_future(shopper(i, client)) for i in range(CLIENTS)]
        try:
            async with asyncio.timeout(LOAD_DEADLINE_S):
                while len(run.shown) < WARM_IMPRESSIONS:
                    await asyncio.sleep(0.05)  # checks the tally (bounded by the timeout)
                run.phase = "after-kill"
                run.kill_started = time.monotonic()
                run.killed_node = await asyncio.to_thread(cluster.run, "kill-primary")
                writable = asyncio.ensure_future(asyncio.to_thread(wait_writable))
                while run.ranks_after < AFTER_RANKS:
                    await asyncio.sleep(0.05)  # checks the tally (bounded by the timeout)
                run.new_primary = await writable
        except TimeoutError:
            raise AssertionError(
                f"the load did not get through the failover within {LOAD_DEADLINE_S:g} s:"
                f" {json.dumps(run.figures())}\nreplica log:\n{cluster.log_tail('app1')}"
            ) from None
        finally:
            done.set()
            await asyncio.gather(*tasks, return_exceptions=True)
    return run


def check_standby_and_pooler(cluster: Cluster) -> None:
    """Before the failover: the standby refuses writes and the engine drops that connection
    (and its pool) like a lost one; through PgBouncer the role's timeouts hold and psycopg
    prepares nothing."""
    standby = make_engine(f"postgresql://hotdeals@127.0.0.1:{cluster.node_port('node2')}/hotdeals")
    try:
        with pytest.raises(OperationalError) as refused, standby.connect() as connection:
            connection.execute(text("CREATE TEMP TABLE probe (i int)"))
        assert refused.value.connection_invalidated, refused.value
    finally:
        standby.dispose()
    pooled = make_engine(cluster.env["APP_DATABASE_URL"])
    try:
        with pooled.connect() as connection:
            assert connection.connection.dbapi_connection is not None
            assert connection.connection.dbapi_connection.prepare_threshold is None
            timeouts = connection.execute(
                text("SELECT current_setting('statement_timeout'), current_setting('lock_timeout')")
            ).one()
        assert tuple(timeouts) == ("5s", "2s")
    finally:
        pooled.dispose()


def wait_ready(port: int) -> None:
    """Poll a replica's /readyz until 200, for at most ``READY_DEADLINE_S``."""
    deadline = time.monotonic() + READY_DEADLINE_S
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
        except httpx.TransportError as exc:
            last = repr(exc)
        else:
            if answer.status_code == 200:
                return
            last = f"{answer.status_code} {answer.text[:300]}"
        time.sleep(0.2)  # a readiness probe's period, not synchronisation
    raise AssertionError(f"replica on port {port} not ready after the failover: {last}")


def test_a_killed_primary_loses_no_acknowledged_event_and_the_service_comes_back(
    cluster: Cluster,
) -> None:
    check_standby_and_pooler(cluster)
    project_id, _, _ = seed_project(cluster.lb_url, [f"Deal {i}" for i in range(6)], customers=0)
    run = run_coroutine(shop_through_failover(cluster, project_id))
    for port in cluster.app_ports:
        wait_ready(port)

    engine = make_engine(cluster.direct_url)
    try:
        with engine.connect() as connection:
            port = int(connection.execute(text("SHOW port")).scalar_one())
            logged = dict(
                connection.execute(select(Transaction.transaction_id, Transaction.clicked)).all()
            )
    finally:
        engine.dispose()
    check = run_db_check(cluster.direct_url)
    figures = {"cluster_start_s": round(cluster.started_in_s, 1), **run.figures()}
    print(json.dumps(figures))
    replica_logs = "".join(cluster.log_tail(f"app{n}", 1_000_000) for n in (1, 2))

    # Every answer is a success or a 503 with Retry-After, never a 500 nor a lost connection.
    assert {status for (_, _, status) in run.statuses} <= {200, 503}, figures
    assert "unexpected error" not in replica_logs, cluster.log_tail("app1")
    assert run.killed_node != run.new_primary, figures
    assert port == cluster.node_port(run.new_primary), figures
    lost = run.shown.keys() - logged.keys()
    assert not lost, f"{len(lost)} acknowledged impressions are not in the new primary's log"
    unclicked = sorted(t for t in run.clicked if not logged[t])
    assert not unclicked, f"{len(unclicked)} acknowledged clicks are not in the log"
    assert check.returncode == 0, check.stdout + check.stderr
    outage = figures["client_outage_s"]
    assert isinstance(outage, float), figures
    assert outage <= OUTAGE_BOUND_S, f"clients saw a {outage} s outage: {figures}"
