"""Group commit: the writes of many concurrent requests in one database transaction.

A shop's busiest rows are its few deals' counters. Updated request by request, every rank waits
for the previous one's row locks and its commit, so throughput is one commit at a time. Here one
writer thread per process takes every write queued while its previous transaction was running
and commits them together (:mod:`~hotdeals.services.group_batch`: one conditional UPDATE of
clicked impressions, one multi-row INSERT of impressions, one UPDATE of every touched counter,
its rows locked in ``bandit_id`` order, and for ranks with an Idempotency-Key one INSERT that
claims all their keys and one UPDATE that stores their ids). Batches grow with load by
themselves; an idle server commits each write at once.

A request's future is resolved only after the commit, so an answer that leaves the server is
already durable. If a batch fails on one job's data (an unknown customer, say), its jobs are
retried one by one, so one bad job cannot fail the others; if it fails on the database itself (a
lock or statement timeout, a lost connection: ``OperationalError``), every job of the batch gets
that error at once, so a stall costs each waiting request one lock timeout, not one per job.
A rolled-back batch claimed no key, so a job answered with an error leaves its key free. What
belongs to one job alone (a key reused for another customer, a ranking of a deal no longer
live) is that job's answer, not a failure of the batch.

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
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError
from datetime import datetime
from typing import TypeVar

from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.db.counters import ClickOutcome, Impression
from hotdeals.db.types import utcnow
from hotdeals.errors import WriterStopped
from hotdeals.services.group_batch import ClickJob, Job, RankJob, Replay, write_batch

log = logging.getLogger("hotdeals.group_commit")

J = TypeVar("J", RankJob, ClickJob)
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
        wall_clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.max_batch = max_batch
        self.clock = clock
        self.wall_clock = wall_clock  # when a batch's impressions and clicks happen
        self._queue: queue.SimpleQueue[Job | object] = queue.SimpleQueue()
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

    def log_impressions(
        self, impressions: Sequence[Impression], idempotency_key: str | None = None
    ) -> Future[list[int] | Replay]:
        """Queue one ranking's impressions; the future gives their transaction ids once
        committed.

        With ``idempotency_key`` the key is claimed in the same transaction. If it was taken
        already (earlier, or by an earlier job of the same batch), nothing is logged: the
        future gives the :class:`~hotdeals.services.group_batch.Replay` of the ranking it
        holds, or :class:`~hotdeals.errors.IdempotencyKeyReused` if that ranking was for
        another project or customer. Without a key the answer is always the ids.
        """
        return self._submit(RankJob.of(impressions, idempotency_key)).future

    def record_click(self, transaction_id: int) -> Future[ClickOutcome | None]:
        """Queue a click; the future gives its outcome (None: unknown id) once committed."""
        return self._submit(ClickJob(transaction_id)).future

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
            batch: list[Job] = [first]  # type: ignore[list-item]
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

    def _run_batch(self, taken: list[Job]) -> None:
        """Claim the jobs whose callers still wait, write them, answer them; never raises an
        ``Exception`` (logged in one line, the unanswered jobs get it)."""
        self._batch_started = self.clock()
        claimed: list[Job] = []
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
    def _answer_rest(jobs: list[Job], exc: BaseException) -> None:
        """Give ``exc`` to every job of ``jobs`` not answered yet."""
        for job in jobs:
            if not job.future.done():
                _settle(job.future, exc)  # type: ignore[arg-type]

    def _commit(self, batch: list[Job]) -> None:
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

    def _write(self, batch: Sequence[Job]) -> list[object]:
        """Each job's result, in order, once the batch is committed (tests wrap this)."""
        return write_batch(self.sessions, batch, self.wall_clock())
