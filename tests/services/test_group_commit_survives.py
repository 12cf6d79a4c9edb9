"""The group-commit writer survives its callers and its jobs: cancelled callers, failing jobs,
a dead thread. Every other job is answered and committed, and the counters stay exact."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.db.audit import find_mismatches
from hotdeals.db.counters import Impression
from hotdeals.db.models import Transaction
from hotdeals.errors import WriterStopped
from hotdeals.services.group_batch import Job, RankJob
from hotdeals.services.group_commit import _STOP, GroupCommitter
from tests.factories import make_project, make_user

BOOM_CUSTOMER = -1  # impressions for this customer make the test writer fail
KILL_CUSTOMER = -2  # ... or stop its thread


class Gate:
    """Holds the writer inside its first batch until the test opens it."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()
        self.armed = True


class TestWriter(GroupCommitter):
    """A writer whose batches can be held (``gate``) and made to fail or die on marked jobs."""

    __test__ = False

    def __init__(self, sessions: sessionmaker[Session], **kwargs: object) -> None:
        super().__init__(sessions, **kwargs)  # type: ignore[arg-type]
        self.gate: Gate | None = None

    def _write(self, batch: Sequence[Job]) -> list[object]:
        gate = self.gate
        if gate is not None and gate.armed:
            gate.armed = False
            gate.entered.set()
            assert gate.opened.wait(timeout=60), "the test never opened the gate"
        customers = {
            i.customer_id for job in batch if isinstance(job, RankJob) for i in job.impressions
        }
        if KILL_CUSTOMER in customers:
            raise SystemExit("the writer thread is killed")
        if BOOM_CUSTOMER in customers:
            raise RuntimeError("boom")
        return super()._write(batch)


@pytest.fixture
def writer(sessions: sessionmaker[Session]) -> Iterator[TestWriter]:
    committer = TestWriter(sessions)
    yield committer
    committer.close()


@pytest.fixture
def setup(sessions: sessionmaker[Session]) -> tuple[int, int, list[int]]:
    with sessions.begin() as session:
        user = make_user(session, "survive@example.com", "Survivor")
        project = make_project(session, deals=["d0", "d1", "d2"], project_name="survive")
        return user.customer_id, project.project_id, [b.bandit_id for b in project.bandits]


def rank(writer: GroupCommitter, customer: int, project: int, arm: int) -> Future[list[int]]:
    return writer.log_impressions([Impression(customer, project, arm, 1)])


def logged(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        assert find_mismatches(session) == []
        return session.scalar(select(func.count()).select_from(Transaction)) or 0


def test_cancelled_callers_are_skipped_and_the_rest_of_the_batch_is_answered(
    writer: TestWriter, sessions: sessionmaker[Session], setup: tuple[int, int, list[int]]
) -> None:
    customer, project, arms = setup
    writer.gate = gate = Gate()
    first = rank(writer, customer, project, arms[0])
    assert gate.entered.wait(timeout=30)
    # The first job is claimed: its caller can no longer cancel it; it is written anyway.
    assert not first.cancel()
    queued = [rank(writer, customer, project, arms[i % 3]) for i in range(12)]
    cancelled = queued[::3]
    assert all(f.cancel() for f in cancelled)  # not claimed yet: dropped, never written
    clicks = [writer.record_click(1), writer.record_click(1)]
    clicks[1].cancel()
    gate.opened.set()

    assert len(first.result(timeout=30)) == 1
    kept = [f for f in queued if f not in cancelled]
    assert all(len(f.result(timeout=30)) == 1 for f in kept)
    assert all(f.cancelled() for f in cancelled)
    outcome = clicks[0].result(timeout=30)
    assert outcome is not None
    assert not outcome.already_recorded
    assert logged(sessions) == 1 + len(kept)
    assert writer.alive


def test_an_awaiting_task_cancelled_in_a_batch_does_not_harm_the_writer(
    writer: TestWriter, sessions: sessionmaker[Session], setup: tuple[int, int, list[int]]
) -> None:
    """The issue's failure: ``asyncio.wrap_future`` cancels the job's future when the awaiting
    task is cancelled; the writer used to die on ``set_result``. Cancelled before its batch
    starts, a job is dropped; cancelled while in a batch, it is written and its answer unread."""
    customer, project, arms = setup
    writer.gate = gate = Gate()

    async def scenario() -> tuple[int, int]:
        first = rank(writer, customer, project, arms[0])
        in_batch = asyncio.wrap_future(first)
        await asyncio.to_thread(gate.entered.wait, 30)
        jobs = [rank(writer, customer, project, arms[1]) for _ in range(6)]
        waiting = [asyncio.wrap_future(job) for job in jobs]
        in_batch.cancel()
        for task in waiting[:3]:
            task.cancel()
        # asyncio passes a cancellation on to the job's future in a callback of the next loop
        # iteration: let it run (a yield), so the jobs are cancelled before the batch starts.
        await asyncio.sleep(0)
        assert all(job.cancelled() for job in jobs[:3])
        assert not first.cancelled()  # already claimed by the running batch
        gate.opened.set()
        answered = await asyncio.gather(*waiting[3:])
        results = await asyncio.gather(in_batch, *waiting[:3], return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results)
        return len(answered), sum(len(ids) for ids in answered)

    assert asyncio.run(scenario()) == (3, 3)
    # The cancelled job that was in the batch is written; the three cancelled in the queue not.
    assert logged(sessions) == 1 + 3
    later = rank(writer, customer, project, arms[2])
    assert len(later.result(timeout=30)) == 1
    assert writer.alive


def test_a_job_that_raises_does_not_stop_the_writer(
    writer: TestWriter,
    sessions: sessionmaker[Session],
    setup: tuple[int, int, list[int]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    customer, project, arms = setup
    writer.gate = gate = Gate()
    held = rank(writer, customer, project, arms[0])
    assert gate.entered.wait(timeout=30)
    before = [rank(writer, customer, project, arms[1]) for _ in range(4)]
    bad = rank(writer, BOOM_CUSTOMER, project, arms[1])
    after = [rank(writer, customer, project, arms[2]) for _ in range(4)]
    gate.opened.set()
    with pytest.raises(RuntimeError, match="boom"):
        bad.result(timeout=30)
    assert all(len(f.result(timeout=30)) == 1 for f in [held, *before, *after])
    assert "retrying one by one" in caplog.text
    assert writer.alive
    assert len(rank(writer, customer, project, arms[0]).result(timeout=30)) == 1
    assert logged(sessions) == 10


def test_a_stopped_writer_is_restarted_by_the_next_submit(
    writer: TestWriter,
    sessions: sessionmaker[Session],
    setup: tuple[int, int, list[int]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    customer, project, arms = setup
    assert len(rank(writer, customer, project, arms[0]).result(timeout=30)) == 1
    thread = writer._thread
    assert thread is not None
    assert writer.alive
    writer._queue.put(_STOP)  # the thread ends under the writer's feet, without close()
    thread.join(timeout=30)
    assert writer.started
    assert not writer.alive
    later = [rank(writer, customer, project, arms[i % 3]) for i in range(5)]
    assert all(len(f.result(timeout=30)) == 1 for f in later)
    assert writer.alive
    assert writer._thread is not thread
    assert writer.restarts == 1
    assert "the writer thread had stopped; starting a new one" in caplog.text
    assert logged(sessions) == 6


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_killed_writer_answers_its_batch_and_the_next_submit_restarts_it(
    writer: TestWriter,
    sessions: sessionmaker[Session],
    setup: tuple[int, int, list[int]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A ``BaseException`` (here ``SystemExit``) in a batch ends the thread: the jobs of that
    batch get :class:`WriterStopped` (their transaction rolled back), the jobs still queued wait
    for the next submit, which starts a new writer that answers them all."""
    customer, project, arms = setup
    writer.gate = gate = Gate()
    held = rank(writer, customer, project, arms[0])
    assert gate.entered.wait(timeout=30)
    thread = writer._thread
    assert thread is not None
    killer = rank(writer, KILL_CUSTOMER, project, arms[1])
    victim = rank(writer, customer, project, arms[1])  # same batch as the killer
    gate.opened.set()
    assert len(held.result(timeout=30)) == 1
    for future in (killer, victim):
        with pytest.raises(WriterStopped):
            future.result(timeout=30)
    thread.join(timeout=30)
    assert not writer.alive

    later = [rank(writer, customer, project, arms[i % 3]) for i in range(5)]
    clicks = [writer.record_click(1), writer.record_click(1)]
    assert all(len(f.result(timeout=30)) == 1 for f in later)
    outcomes = [f.result(timeout=30) for f in clicks]
    assert [o.already_recorded for o in outcomes if o is not None] == [False, True]
    assert writer.alive
    assert writer.restarts == 1
    assert "starting a new one" in caplog.text
    assert logged(sessions) == 1 + 5


def test_a_database_error_fails_the_whole_batch_at_once_and_counts_as_a_stall(
    sessions: sessionmaker[Session], setup: tuple[int, int, list[int]]
) -> None:
    """A lock or statement timeout fails every job of the batch with it, without retrying
    them one by one (each would wait the lock timeout again); ``stalled_for`` then grows from
    the first failure, on the injected clock, and is forgotten after a success."""
    customer, project, arms = setup
    now = [100.0]
    failures = [1]

    class Failing(GroupCommitter):
        def _write(self, batch: Sequence[Job]) -> list[object]:
            if failures[0]:
                failures[0] -= 1
                raise OperationalError("UPDATE bandits", {}, Exception("lock timeout"))
            return super()._write(batch)

    writer = Failing(sessions, clock=lambda: now[0])
    try:
        jobs = [rank(writer, customer, project, arms[0]) for _ in range(3)]
        errors = 0
        for job in jobs:
            try:
                job.result(timeout=30)
            except OperationalError:
                errors += 1
        assert errors >= 1
        now[0] += 4.0
        assert writer.stalled_for(recent=5.0) == pytest.approx(4.0)
        assert writer.stalled_for(recent=3.0) == 0.0  # the failure is old news
        assert len(rank(writer, customer, project, arms[0]).result(timeout=30)) == 1
        assert writer.stalled_for(recent=5.0) == 0.0
    finally:
        writer.close()
    assert logged(sessions) == 3 - errors + 1


def test_the_oldest_queued_job_ages_on_the_injected_clock(
    writer: TestWriter, setup: tuple[int, int, list[int]]
) -> None:
    customer, project, arms = setup
    now = [10.0]
    writer.clock = lambda: now[0]
    assert writer.oldest_queued_age() == 0.0
    assert writer.stalled_for(recent=1) == 0.0
    writer.gate = gate = Gate()
    held = rank(writer, customer, project, arms[0])
    assert gate.entered.wait(timeout=30)
    now[0] = 11.0
    queued = rank(writer, customer, project, arms[1])
    now[0] = 15.0
    assert writer.queued == 1
    assert writer.oldest_queued_age() == pytest.approx(4.0)
    assert writer.stalled_for(recent=1) == pytest.approx(5.0)  # the running batch, since 10
    gate.opened.set()
    assert len(held.result(timeout=30)) == 1
    assert len(queued.result(timeout=30)) == 1
    assert writer.queued == 0
    assert writer.stalled_for(recent=1) == 0.0
