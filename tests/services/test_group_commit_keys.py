"""Idempotency-Key ranks on the group-commit path: a key logs its ranking once, whoever races it.

A keyed rank is claimed, logged and stored under its key in one batch transaction; a retry, a
twin in the same batch or a rank on the exact path with the same key gets that ranking back
(same deals, positions and transaction ids) and logs nothing. Every test ends with the counters
audited against the log.

To put several jobs in one batch, another connection holds the deal rows while the writer is
in a first batch (its future is running): the jobs submitted meanwhile queue, and the writer
takes them together once the rows are released. Both backends run the race of a fast and an
exact rank on one key; on PostgreSQL two more tests order it both ways, seeing a transaction
wait for another's key in ``pg_stat_activity``, and one counts the writer's statements.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import Engine, event, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.db.audit import find_mismatches
from hotdeals.db.counters import Impression
from hotdeals.db.engine import Timeouts, make_engine, make_session_factory
from hotdeals.db.models import Bandit, Transaction
from hotdeals.db.service_tables import RankRequest
from hotdeals.db.types import utcnow
from hotdeals.errors import IdempotencyKeyReused, ServiceBusy
from hotdeals.services.group_batch import Replay
from hotdeals.services.group_commit import GroupCommitter
from hotdeals.services.learning import LearningLoop
from hotdeals.services.projects import create_project
from hotdeals.services.ranking import Ranking, choose, impressions_for, rank_deals
from hotdeals.services.snapshot import load_snapshot
from hotdeals.services.specs import DealSpec, ProjectSpec
from tests.factories import make_user
from tests.support.locks import counters_held, deal_rows_held

WAIT_S = 30  # bound of every wait below; none is reached when all is well


@dataclass(frozen=True)
class Shop:
    project: int
    ann: int
    bob: int
    arms: list[int]

    def shown(self, customer: int, arms: list[int] | None = None) -> list[Impression]:
        """One ranking's impressions: ``arms`` (default: all, in id order) in slots 1, 2, ..."""
        order = self.arms if arms is None else arms
        return [
            Impression(customer, self.project, arm, position)
            for position, arm in enumerate(order, start=1)
        ]


@pytest.fixture
def shop(sessions: sessionmaker[Session]) -> Shop:
    """Two customers and a running campaign of three described deals, priced in GBP."""
    deals = tuple(
        DealSpec(bandit_name=f"d{i}", description=f"Offer {i}", price=Decimal("1.99"), emoji="🍎")
        for i in range(3)
    )
    spec = ProjectSpec(project_name="keys", currency="GBP", slots=3, bandits=deals)
    with sessions.begin() as session:
        ann = make_user(session, "ann@example.com", "Ann")
        bob = make_user(session, "bob@example.com", "Bob")
        project = create_project(session, spec)
        arms = [b.bandit_id for b in project.bandits]
        return Shop(project.project_id, ann.customer_id, bob.customer_id, arms)


@pytest.fixture
def patient(database_url: str, engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions that wait up to a minute for a lock, as the tests hold some for a while."""
    own = make_engine(database_url, timeouts=Timeouts(lock_ms=60_000))
    yield make_session_factory(own)
    own.dispose()


@pytest.fixture
def writer(patient: sessionmaker[Session]) -> Iterator[GroupCommitter]:
    committer = GroupCommitter(patient)
    yield committer
    committer.close()


def until(condition: Callable[[], bool], what: str) -> None:
    """Return once ``condition()`` holds; fail after ``WAIT_S`` seconds."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, what


def waiting_for_lock(engine: Engine, statement: str) -> bool:
    """A backend of this database is waiting for a lock in a statement starting so."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock' AND query LIKE :statement"
    )
    with engine.connect() as connection:
        return bool(connection.execute(query, {"statement": f"{statement}%"}).scalar_one())


def audited(sessions: sessionmaker[Session]) -> tuple[int, dict[str, list[int]]]:
    """(impressions logged, transaction ids stored under each key), the counters checked."""
    with sessions() as session:
        assert find_mismatches(session) == []
        logged = session.scalar(select(func.count()).select_from(Transaction)) or 0
        keys = {r.idempotency_key: r.transaction_ids for r in session.scalars(select(RankRequest))}
        return logged, keys


def ids_of(ranking: Ranking | Replay) -> list[int]:
    return [deal.transaction_id for deal in ranking.deals]


def test_a_keyed_rank_goes_through_the_writer_logs_once_and_its_retry_replays(
    sessions: sessionmaker[Session], shop: Shop
) -> None:
    loop = LearningLoop(sessions, np.random.default_rng(1))

    async def scenario() -> tuple[Ranking, int, Ranking]:
        try:
            first = await loop.rank(shop.project, shop.ann, idempotency_key="view-1")
            jobs = loop.writer.jobs
            again = await loop.rank(shop.project, shop.ann, idempotency_key="view-1")
            with pytest.raises(IdempotencyKeyReused):
                await loop.rank(shop.project, shop.bob, idempotency_key="view-1")
            return first, jobs, again
        finally:
            await loop.close()

    first, jobs_after_first, again = asyncio.run(scenario())
    assert (jobs_after_first, loop.writer.jobs) == (1, 3)  # all three on the fast path
    assert not first.replayed
    assert again.replayed
    assert again.deals == first.deals  # same deals, positions, ids and display
    assert [d.position for d in again.deals] == [1, 2, 3]
    assert first.deals[0].display.price == Decimal("1.99")
    assert again.currency == first.currency == "GBP"
    assert audited(sessions) == (3, {"view-1": ids_of(first)})


def test_one_key_twice_in_one_batch_logs_one_ranking_and_answers_both_with_it(
    engine: Engine, writer: GroupCommitter, sessions: sessionmaker[Session], shop: Shop
) -> None:
    with deal_rows_held(engine):
        blocker = writer.log_impressions(shop.shown(shop.ann))
        until(blocker.running, "the writer never took the first job")
        first = writer.log_impressions(shop.shown(shop.ann, shop.arms[::-1]), "view-2")
        twin = writer.log_impressions(shop.shown(shop.ann), "view-2")  # another draw, same view
        plain = writer.log_impressions(shop.shown(shop.bob))
    ids = first.result(timeout=WAIT_S)
    replay = twin.result(timeout=WAIT_S)
    assert isinstance(ids, list)
    assert isinstance(replay, Replay)
    assert ids_of(replay) == ids
    assert [d.bandit_id for d in replay.deals] == shop.arms[::-1]  # the first job's ranking
    assert [d.position for d in replay.deals] == [1, 2, 3]
    assert len(plain.result(timeout=WAIT_S)) == 3
    assert len(blocker.result(timeout=WAIT_S)) == 3
    assert writer.batches == 2  # the blocker's, then one with the twins
    assert audited(sessions) == (9, {"view-2": ids})


def test_a_key_reused_for_another_customer_fails_that_job_alone(
    engine: Engine, writer: GroupCommitter, sessions: sessionmaker[Session], shop: Shop
) -> None:
    earlier = writer.log_impressions(shop.shown(shop.ann), "view-old").result(timeout=WAIT_S)
    assert isinstance(earlier, list)
    with deal_rows_held(engine):
        blocker = writer.log_impressions(shop.shown(shop.ann))
        until(blocker.running, "the writer never took the first job")
        ann_new = writer.log_impressions(shop.shown(shop.ann), "view-3")
        bob_same_batch = writer.log_impressions(shop.shown(shop.bob), "view-3")
        bob_committed = writer.log_impressions(shop.shown(shop.bob), "view-old")
        plain = writer.log_impressions(shop.shown(shop.bob))
        bob_own = writer.log_impressions(shop.shown(shop.bob), "view-4")
    for reused in (bob_same_batch, bob_committed):
        with pytest.raises(IdempotencyKeyReused, match="another project or customer"):
            reused.result(timeout=WAIT_S)
    logged = [f.result(timeout=WAIT_S) for f in (ann_new, plain, bob_own, blocker)]
    assert all(isinstance(ids, list) and len(ids) == 3 for ids in logged)
    assert writer.batches == 3  # the reuses did not fail the batch
    assert audited(sessions) == (
        3 + 4 * 3,
        {"view-old": earlier, "view-3": logged[0], "view-4": logged[2]},
    )


def test_a_batch_that_fails_claims_no_key_and_its_jobs_are_retried_one_by_one(
    engine: Engine, writer: GroupCommitter, sessions: sessionmaker[Session], shop: Shop
) -> None:
    with deal_rows_held(engine):
        blocker = writer.log_impressions(shop.shown(shop.ann))
        until(blocker.running, "the writer never took the first job")
        keyed = writer.log_impressions(shop.shown(shop.ann), "view-5")
        bad = writer.log_impressions(shop.shown(999_999))  # no such customer: the batch fails
        twin = writer.log_impressions(shop.shown(shop.ann), "view-5")
    with pytest.raises(IntegrityError):
        bad.result(timeout=WAIT_S)
    ids = keyed.result(timeout=WAIT_S)
    replay = twin.result(timeout=WAIT_S)
    assert isinstance(ids, list)
    assert isinstance(replay, Replay)
    assert ids_of(replay) == ids
    assert audited(sessions) == (3 + 3, {"view-5": ids})


def test_a_keyed_rank_of_a_deal_gone_since_its_snapshot_is_redone_exactly_under_its_key(
    engine: Engine, sessions: sessionmaker[Session], shop: Shop
) -> None:
    loop = LearningLoop(sessions, np.random.default_rng(2), snapshot_ttl=3_600)

    async def scenario() -> tuple[int, Ranking, Ranking]:
        try:
            await loop.rank(shop.project, shop.ann)  # caches the snapshot: three live deals
            with engine.begin() as connection:  # as another process would: the cache keeps it
                gone = update(Bandit).where(Bandit.bandit_id == shop.arms[0])
                connection.execute(gone.values(active=False))
            jobs = loop.writer.jobs
            ranked = await loop.rank(shop.project, shop.ann, idempotency_key="view-6")
            again = await loop.rank(shop.project, shop.ann, idempotency_key="view-6")
            return loop.writer.jobs - jobs, ranked, again
        finally:
            await loop.close()

    writer_jobs, ranked, again = asyncio.run(scenario())
    # The keyed rank showed all three deals: the writer refused it (StaleSnapshot), the exact
    # path ranked the two live ones and claimed the key; the retry replayed it from the writer.
    assert writer_jobs == 2
    assert not ranked.replayed
    assert shop.arms[0] not in {d.bandit_id for d in ranked.deals}
    assert len(ranked.deals) == 2
    assert again.replayed
    assert again.deals == ranked.deals
    assert audited(sessions) == (3 + 2, {"view-6": ids_of(ranked)})


def test_a_late_keyed_rank_is_busy_and_its_retry_replays_what_the_writer_committed(
    engine: Engine, patient: sessionmaker[Session], shop: Shop
) -> None:
    loop = LearningLoop(patient, np.random.default_rng(3), deadline=1.0)

    async def scenario() -> tuple[Ranking, Ranking]:
        try:
            await loop.rank(shop.project, shop.ann)  # the writer started, the customer known
            with deal_rows_held(engine), pytest.raises(ServiceBusy, match="same Idempotency-Key"):
                await loop.rank(shop.project, shop.ann, idempotency_key="view-7")
            retry = await loop.rank(shop.project, shop.ann, idempotency_key="view-7")
            again = await loop.rank(shop.project, shop.ann, idempotency_key="view-7")
            return retry, again
        finally:
            await loop.close()

    retry, again = asyncio.run(scenario())
    # The late rank was taken by the writer before its deadline and committed once the rows
    # were free; the retries queued behind it and replayed it.
    assert retry.replayed
    assert again.deals == retry.deals
    assert audited(patient) == (3 + 3, {"view-7": ids_of(retry)})


# PostgreSQL only: round trips are what counts, and SQLite has none (in-process; there
# SQLAlchemy inserts the impressions row by row to return their ids in order).
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_keys_cost_a_batch_one_statement_a_replay_an_undo_and_two_reads_no_key_nothing(
    engine: Engine, writer: GroupCommitter, patient: sessionmaker[Session], shop: Shop
) -> None:
    """The writer's statements per batch, the commit aside: without keys as before; with keys
    one claim (holding the ids) whatever their number; a replay undoes its impressions and
    reads the earlier ranking."""
    statements: list[list[tuple[str, str]]] = [[]]
    sizes: list[int] = []

    def note(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if threading.current_thread().name == "hotdeals-group-commit":
            found = re.search(r"\b(?:INTO|UPDATE|FROM)\s+(\w+)", statement)
            statements[-1].append((statement.split()[0], found.group(1) if found else "?"))

    def committed(size: int, _seconds: float) -> None:
        sizes.append(size)
        statements.append([])

    def one_batch(*jobs: Callable[[], Future[list[int] | Replay]]) -> None:
        """The jobs in one batch, queued while the writer waits in a first (unkeyed) one."""
        with deal_rows_held(engine):
            blocker = writer.log_impressions(shop.shown(shop.bob))
            until(blocker.running, "the writer never took the first job")
            futures = [job() for job in jobs]
        for future in [blocker, *futures]:
            future.result(timeout=WAIT_S)

    writer.on_commit = committed
    bind = patient.kw["bind"]
    event.listen(bind, "before_cursor_execute", note)
    try:
        one_batch(*(lambda: writer.log_impressions(shop.shown(shop.ann)) for _ in range(3)))
        one_batch(
            *(lambda i=i: writer.log_impressions(shop.shown(shop.ann), f"k{i}") for i in range(3))
        )
        writer.log_impressions(shop.shown(shop.ann), "k0").result(timeout=WAIT_S)
    finally:
        event.remove(bind, "before_cursor_execute", note)
    assert sizes == [1, 3, 1, 3, 1]
    # Per deal; per slot and, in the same statement (its CTE), per hour (rollups).
    counted = [("UPDATE", "bandits"), ("WITH", "bandit_positions")]
    plain = [("INSERT", "transactions"), *counted]
    keyed = [
        ("INSERT", "transactions"),
        ("INSERT", "rank_requests"),  # claims the three keys, each row with its ids
        *counted,
    ]
    replay = [
        ("INSERT", "transactions"),
        ("INSERT", "rank_requests"),  # k0 is taken: nothing claimed
        ("DELETE", "transactions"),  # the impressions just inserted under it are undone
        ("SELECT", "rank_requests"),
        ("SELECT", "transactions"),
    ]
    assert statements == [plain, plain, plain, keyed, replay, []]
    assert audited(patient)[0] == 8 * 3


def fast_rank(
    writer: GroupCommitter, sessions: sessionmaker[Session], shop: Shop, key: str
) -> list[int] | Replay:
    """A keyed rank on the fast path, from a snapshot read as the snapshot cache reads it."""
    with sessions() as session:
        snapshot = load_snapshot(session, shop.project)
    chosen = choose(snapshot, None, np.random.default_rng(), utcnow())
    impressions = impressions_for(snapshot, chosen, shop.ann)
    return writer.log_impressions(impressions, key).result(timeout=WAIT_S)


def exact_rank(sessions: sessionmaker[Session], shop: Shop, key: str) -> Ranking:
    """A keyed rank on the exact path, in its own transaction."""
    with sessions.begin() as session:
        return rank_deals(
            session, shop.project, shop.ann, np.random.default_rng(), idempotency_key=key
        )


def in_threads(*work: Callable[[], object]) -> list[object]:
    """Run each callable in a thread of its own, started together; their results (or errors)."""
    barrier = threading.Barrier(len(work), timeout=WAIT_S)
    results: list[object] = [None] * len(work)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work[index]()
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT_S * 2)
        assert not thread.is_alive(), "a racer never finished"
    for result in results:
        if isinstance(result, Exception):
            raise result
    return results


def test_fast_and_exact_ranks_racing_on_one_key_log_it_once(
    writer: GroupCommitter, patient: sessionmaker[Session], shop: Shop
) -> None:
    rounds = 12
    stored: dict[str, list[int]] = {}
    replayed_by = {"fast": 0, "exact": 0}
    for round_ in range(rounds):
        key = f"race-{round_}"
        fast, exact = in_threads(
            lambda: fast_rank(writer, patient, shop, key),  # noqa: B023
            lambda: exact_rank(patient, shop, key),  # noqa: B023
        )
        assert isinstance(exact, Ranking)
        if isinstance(fast, Replay):
            assert not exact.replayed
            assert fast.deals == exact.deals
            replayed_by["fast"] += 1
        else:
            assert exact.replayed
            assert ids_of(exact) == fast
            replayed_by["exact"] += 1
        stored[key] = ids_of(exact)
    assert sum(replayed_by.values()) == rounds
    assert audited(patient) == (rounds * 3, stored)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_batch_meeting_a_key_an_exact_rank_holds_waits_for_it_and_replays_it(
    engine: Engine, writer: GroupCommitter, patient: sessionmaker[Session], shop: Shop
) -> None:
    with patient.begin() as session:
        exact = rank_deals(
            session, shop.project, shop.ann, np.random.default_rng(4), idempotency_key="view-8"
        )
        fast = writer.log_impressions(shop.shown(shop.ann), "view-8")
        until(
            lambda: waiting_for_lock(engine, "INSERT INTO rank_requests"),
            "the batch never waited for the key",
        )
        assert not fast.done()
    replay = fast.result(timeout=WAIT_S)  # the exact rank committed on leaving the block
    assert isinstance(replay, Replay)
    assert replay.deals == exact.deals
    assert audited(patient) == (3, {"view-8": ids_of(exact)})


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_exact_rank_meeting_a_key_a_batch_holds_waits_for_it_and_replays_it(
    engine: Engine, writer: GroupCommitter, patient: sessionmaker[Session], shop: Shop
) -> None:
    answers: list[Ranking | Exception] = []

    def exact() -> None:
        try:
            answers.append(exact_rank(patient, shop, "view-9"))
        except Exception as exc:
            answers.append(exc)

    racer = threading.Thread(target=exact)
    with counters_held(engine):
        fast = writer.log_impressions(shop.shown(shop.ann), "view-9")
        # The batch has logged its impressions, claimed the key and waits to count them.
        until(
            lambda: waiting_for_lock(engine, "UPDATE bandits"),
            "the batch never waited for the deal rows",
        )
        racer.start()
        until(
            lambda: waiting_for_lock(engine, "INSERT INTO rank_requests"),
            "the exact rank never waited for the key",
        )
    ids = fast.result(timeout=WAIT_S)
    racer.join(timeout=WAIT_S)
    assert not racer.is_alive()
    (answer,) = answers
    assert isinstance(answer, Ranking)
    assert answer.replayed
    assert isinstance(ids, list)
    assert ids_of(answer) == ids
    assert audited(patient) == (3, {"view-9": ids})
