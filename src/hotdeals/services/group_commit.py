"""Group commit: the writes of many concurrent requests in one database transaction.

A shop's busiest rows are its few deals' counters. Updated request by request, every rank waits
for the previous one's row locks and its commit, so throughput is one commit at a time. Here one
writer thread per process takes every write queued while its previous transaction was running
and commits them together: one conditional UPDATE of clicked impressions, one multi-row INSERT
of impressions, and one UPDATE of every touched counter, its rows locked in ``bandit_id``
order. Batches grow with load by themselves; an idle server commits each write at once.

A request's future is resolved only after the commit, so an answer that leaves the server is
already durable. If a batch fails on one job's data (an unknown customer, say), its jobs are
retried one by one, so one bad job cannot fail the others; if it fails on the database itself (a
lock or statement timeout, a lost connection: ``OperationalError``), every job of the batch gets
that error at once, so a stall costs each waiting request one lock timeout, not one per job.

The writer cannot die of a caller or a job:

* Each job's future is claimed (``set_running_or_notify_cancel``) when its batch starts. A job
  whose caller gave up before that (a request past its deadline cancels its future) is dropped
  and never written: a rank abandoned in the queue logs no impression. Once claimed, a future
  cannot be cancelled: the job is written and, if its caller has gone, the result is discarded
  (a retry with the same Idempotency-Key or the same click then finds it, counted once).
* Settling a future never raises into the loop, and the loop catches any exception of a batch
  (one log line; the batch's unanswered jobs get the error) and goes on.
* If the thread ends anyway (a ``BaseException``), the jobs it held get
  :class:`~hotdeals.errors.WriterStopped`, and the next submit notices the dead thread, logs a
  line and starts a new one, which also takes whatever was left queued.
* Readiness reads :attr:`~GroupCommitter.alive` and :meth:`~GroupCommitter.stalled_for`.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.db.counters import (
    ClickOutcome,
    Impression,
    apply_counts,
    first_clicks,
    insert_impressions,
    mark_clicked,
)
from hotdeals.errors import WriterStopped

log = logging.getLogger("hotdeals.group_commit")


class StaleSnapshot(Exception):
    """The ranked project was paused or a ranked deal deactivated after the ranking was made."""


class _ShownDealsGone(Exception):
    """Raised inside a batch's transaction to undo it: these shown deals are no longer live."""

    def __init__(self, bandit_ids: frozenset[int]) -> None:
        super().__init__(sorted(bandit_ids))
        self.bandit_ids = bandit_ids


@dataclass(slots=True)
class _RankJob:
    impressions: Sequence[Impression]
    future: Future[list[int]] = field(default_factory=Future)


@dataclass(slots=True)
class _ClickJob:
    transaction_id: int
    future: Future[ClickOutcome | None] = field(default_factory=Future)


_Job = _RankJob | _ClickJob
J = TypeVar("J", _RankJob, _ClickJob)
_STOP = object()

# Errors of the database itself, not of one job: the whole batch fails with them at once.
_DATABASE_ERRORS = (OperationalError, PoolTimeout)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _settle(future: Future[object], outcome: object) -> None:
    """Answer a claimed future; never raises (a future answered twice is a bug, logged)."""
    try:
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
    except InvalidStateError:
        log.error("group commit: a write was answered twice; the second answer is dropped")


class GroupCommitter:
    """One writer thread that commits queued ranks and clicks in batches."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        max_batch: int = 1_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.max_batch = max_batch
        self.clock = clock
        self._queue: queue.SimpleQueue[_Job | object] = queue.SimpleQueue()
        # Submit times of the jobs not yet taken, oldest first (deque appends/pops are atomic).
        self._queued_at: deque[float] = deque()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._batch_started: float | None = None
        self._failing_since: float | None = None
        self._last_failure = 0.0
        self.batches = 0
        self.jobs = 0
        self.restarts = 0
        # Called after each commit with the batch size and its seconds (metrics); never raises.
        self.on_commit: Callable[[int, float], None] | None = None

    def log_impressions(self, impressions: Sequence[Impression]) -> Future[list[int]]:
        """Queue impressions; the future gives their transaction ids once committed."""
        return self._submit(_RankJob(impressions)).future

    def record_click(self, transaction_id: int) -> Future[ClickOutcome | None]:
        """Queue a click; the future gives its outcome (None: unknown id) once committed."""
        return self._submit(_ClickJob(transaction_id)).future

    def close(self) -> None:
        """Commit what is queued, then stop the writer."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join()

    @property
    def started(self) -> bool:
        """A writer was started (by a first submit) and not closed since."""
        return self._thread is not None

    @property
    def alive(self) -> bool:
        """The writer thread is running."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    @property
    def queued(self) -> int:
        """Jobs submitted and not yet taken by the writer (cancelled ones included)."""
        return len(self._queued_at)

    def oldest_queued_age(self) -> float:
        """Seconds the oldest job not yet taken by the writer has waited; 0 when none waits."""
        try:
            return max(0.0, self.clock() - self._queued_at[0])
        except IndexError:
            return 0.0

    def stalled_for(self, recent: float) -> float:
        """How long the writer has not been making progress, in seconds; 0 when healthy.

        The longest of: the oldest queued job's wait, the running batch's age, and the time
        since batches started failing on the database (under a stall each fails at the lock
        timeout, so the other two stay short) while the last failure is under ``recent`` s old.
        """
        now = self.clock()
        stalled = self.oldest_queued_age()
        started = self._batch_started
        if started is not None:
            stalled = max(stalled, now - started)
        since = self._failing_since
        if since is not None and now - self._last_failure < recent:
            stalled = max(stalled, now - since)
        return stalled

    def _submit(self, job: J) -> J:
        thread = self._thread
        if thread is None or not thread.is_alive():
            self._start(thread)
        self._queued_at.append(self.clock())
        self._queue.put(job)
        return job

    def _start(self, seen: threading.Thread | None) -> None:
        """Start the writer lazily, in the process that serves (after any fork), or again if
        the one ``seen`` has stopped."""
        with self._lock:
            current = self._thread
            if current is not None and current is not seen and current.is_alive():
                return  # another caller started it meanwhile
            if current is not None:
                self.restarts += 1
                msg = "group commit: the writer thread had stopped; starting a new one (%d queued)"
                log.error(msg, self.queued)
            thread = threading.Thread(target=self._run, name="hotdeals-group-commit", daemon=True)
            thread.start()
            self._thread = thread

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch: list[_Job] = [first]  # type: ignore[list-item]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stop = True
                    break
                batch.append(more)  # type: ignore[arg-type]
            with contextlib.suppress(IndexError):  # each job appended its time before queueing
                for _ in batch:
                    self._queued_at.popleft()
            self._run_batch(batch)
            if stop:
                return

    def _run_batch(self, taken: list[_Job]) -> None:
        """Claim the jobs whose callers still wait, write them, answer them; never raises an
        ``Exception`` (logged in one line, the unanswered jobs get it)."""
        self._batch_started = self.clock()
        claimed: list[_Job] = []
        try:
            for job in taken:
                if job.future.set_running_or_notify_cancel():
                    claimed.append(job)
            if claimed:
                self._commit(claimed)
        except Exception as exc:
            what = f"{len(claimed)} writes failed unexpectedly: {type(exc).__name__}"
            log.error("group commit: a batch of %s: %s", what, _first_line(exc))
            self._answer_rest(claimed, exc)
        except BaseException:
            self._answer_rest(claimed, WriterStopped("the writer stopped; retry the request"))
            raise
        finally:
            self._batch_started = None

    @staticmethod
    def _answer_rest(jobs: list[_Job], exc: BaseException) -> None:
        """Give ``exc`` to every job of ``jobs`` not answered yet."""
        for job in jobs:
            if not job.future.done():
                _settle(job.future, exc)  # type: ignore[arg-type]

    def _commit(self, batch: list[_Job]) -> None:
        started = self.clock()
        try:
            results = self._write(batch)
        except _DATABASE_ERRORS as exc:
            self._failed()
            log.warning(
                "group commit: a batch of %d writes failed: %s", len(batch), _first_line(exc)
            )
            self._answer_rest(batch, exc)
            return
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0].future, exc)  # type: ignore[arg-type]
                return
            log.warning(
                "group commit: a batch of %d writes failed (%s); retrying one by one",
                len(batch),
                _first_line(exc),
            )
            for job in batch:
                self._commit([job])
            return
        self._failing_since = None
        self.batches += 1
        self.jobs += len(batch)
        for job, result in zip(batch, results, strict=True):
            _settle(job.future, result)  # type: ignore[arg-type]
        observer = self.on_commit
        if observer is not None:
            try:
                observer(len(batch), self.clock() - started)
            except Exception as exc:  # metrics never stop the writer
                log.error("group commit: the commit observer failed: %s", _first_line(exc))

    def _failed(self) -> None:
        now = self.clock()
        if self._failing_since is None:
            self._failing_since = now
        self._last_failure = now

    def _write(self, batch: Sequence[_Job]) -> list[object]:
        """Write the batch; if a shown deal was paused or deactivated since its ranking, undo
        and write it again without the rankings that showed it (they fail with
        :class:`StaleSnapshot` and are re-ranked on the exact path). Ends: ``stale`` grows."""
        stale: frozenset[int] = frozenset()
        while True:
            try:
                return self._write_once(batch, stale)
            except _ShownDealsGone as exc:
                stale |= exc.bandit_ids

    def _write_once(self, batch: Sequence[_Job], stale: frozenset[int]) -> list[object]:
        """One transaction for the whole batch; returns each job's result, in order.

        Three round trips and the commit: flag the clicked impressions, insert the shown ones,
        lock and count the touched deals (in id order; the hot rows stay locked for that last
        statement and the commit only). The count also says whether each shown deal is still
        live, as of this transaction.
        """
        ranks = [j for j in batch if isinstance(j, _RankJob)]
        clicks = [j for j in batch if isinstance(j, _ClickJob)]
        results: dict[int, object] = {}
        with self.sessions.begin() as session:
            flagged = [j.transaction_id for j in clicks]
            outcomes = mark_clicked(session, flagged) if flagged else []
            for click, outcome in zip(clicks, outcomes, strict=True):
                results[id(click)] = outcome
            fresh = [j for j in ranks if not any(i.bandit_id in stale for i in j.impressions)]
            for rank in ranks:
                results[id(rank)] = StaleSnapshot()
            impressions = [i for j in fresh for i in j.impressions]
            ids = insert_impressions(session, impressions)
            start = 0
            for rank in fresh:
                results[id(rank)] = ids[start : start + len(rank.impressions)]
                start += len(rank.impressions)
            shown = Counter(i.bandit_id for i in impressions)
            states = apply_counts(session, shown=shown, clicked=first_clicks(outcomes))
            gone = frozenset(b for b in shown if not states[b].live)
            if gone:
                raise _ShownDealsGone(gone)  # leaving the block rolls the transaction back
        return [results[id(job)] for job in batch]
