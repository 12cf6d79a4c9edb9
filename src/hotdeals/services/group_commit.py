"""Group commit: the writes of many concurrent requests in one database transaction.

A shop's busiest rows are its few deals' counters. Updated request by request, every rank waits
for the previous one's row locks and its commit, so throughput is one commit at a time. Here one
writer thread per process takes every write queued while its previous transaction was running
and commits them together: one conditional UPDATE of clicked impressions, one multi-row INSERT
of impressions, and one UPDATE of every touched counter, its rows locked in ``bandit_id``
order. Batches grow with load by themselves; an idle server commits each write at once.

A request's future is resolved only after the commit, so an answer that leaves the server is
already durable. If a batch fails, its jobs are retried one by one, so one bad job cannot fail
the others.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from hotdeals.db.counters import (
    ClickOutcome,
    Impression,
    apply_counts,
    first_clicks,
    insert_impressions,
    mark_clicked,
)

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
_STOP = object()


class GroupCommitter:
    """One writer thread that commits queued ranks and clicks in batches."""

    def __init__(self, sessions: sessionmaker[Session], *, max_batch: int = 1_000) -> None:
        self.sessions = sessions
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Job | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0
        self.jobs = 0

    def log_impressions(self, impressions: Sequence[Impression]) -> Future[list[int]]:
        """Queue impressions; the future gives their transaction ids once committed."""
        job = _RankJob(impressions)
        self._submit(job)
        return job.future

    def record_click(self, transaction_id: int) -> Future[ClickOutcome | None]:
        """Queue a click; the future gives its outcome (None: unknown id) once committed."""
        job = _ClickJob(transaction_id)
        self._submit(job)
        return job.future

    def close(self) -> None:
        """Commit what is queued, then stop the writer."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join()

    def _submit(self, job: _Job) -> None:
        if self._thread is None:
            with self._lock:  # started lazily, in the process that serves (after any fork)
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="hotdeals-group-commit", daemon=True
                    )
                    self._thread.start()
        self._queue.put(job)

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
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[_Job]) -> None:
        try:
            results = self._write(batch)
        except Exception as exc:
            if len(batch) == 1:
                batch[0].future.set_exception(exc)
                return
            log.warning("a batch of %d writes failed (%s); retrying one by one", len(batch), exc)
            for job in batch:
                self._commit([job])
            return
        self.batches += 1
        self.jobs += len(batch)
        for job, result in zip(batch, results, strict=True):
            if isinstance(result, Exception):
                job.future.set_exception(result)
            else:
                job.future.set_result(result)  # type: ignore[arg-type]

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
