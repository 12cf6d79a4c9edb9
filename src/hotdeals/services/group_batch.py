"""One batch of the group commit as one database transaction: its clicks, its ranks and their
Idempotency-Keys, each job's answer decided by what this transaction committed.

:class:`~hotdeals.services.group_commit.GroupCommitter` hands each batch it takes to
:func:`write_batch`. The statements come in the order that keeps every transaction's locks in
one order (no deadlocks: clicked impressions, then keys in key order, then counter rows in
``bandit_id`` order, as on the exact path) and the hot counter rows locked for the last
statement and the commit only:

1. flag the clicked impressions (a conditional UPDATE: of concurrent clicks, one wins);
2. insert the impressions of the ranks without a key and of each key's first ranking;
3. claim the batch's keys with those ids in their rows (one ``INSERT ... ON CONFLICT DO
   NOTHING``, in key order);
4. only if a key was taken before (a retry): delete the impressions just inserted under it
   (nobody saw them, nothing counted them) and read what the taken keys hold (two SELECTs);
5. lock and count the touched deals; the count also says whether each shown deal is still live;
6. add the same impressions and first clicks to the per deal and slot counters (one upsert) and,
   only for campaigns that forget, to the deals' discounted state (one UPDATE).

Every impression and first click of a batch is logged at one time, ``now``, read once per batch
from the writer's clock (injectable, so tests move time without sleeping).

A batch without keys costs steps 1, 2, 5 and 6; keys add one statement unless a
retry is among them. (Claiming after inserting writes a ranking that may be undone, but only
for retries, which are rare; claiming first would cost every keyed batch a second statement to
store the ids, measured at 18% of the writer's time under load.)

Keys: the first job of the batch with a key owns it and alone may log under it. Every other
keyed job that logged nothing (its key was taken before, by any process on either path, or by
its owner in this batch) is answered as a retry from what its key holds, read in this
transaction: the earlier deals (:class:`Replay`), or :class:`~hotdeals.errors.IdempotencyKeyReused`
for that job alone when the key was used for another project or customer. On PostgreSQL a key
claimed by a transaction still running makes step 3 wait for it and then read what it committed.

Stale snapshots: if step 5 finds a shown deal paused or deactivated since its ranking, the
transaction is rolled back, key claims included, and written again without the rankings that
showed it. They fail with :class:`StaleSnapshot`, as do the jobs sharing a key with one of them,
and are re-ranked on the exact path, which claims their keys itself.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from hotdeals.db.counters import (
    ClickOutcome,
    Impression,
    count_events,
    discard_impressions,
    insert_impressions,
    mark_clicked,
)
from hotdeals.db.rank_keys import KeyClaim, claim_keys
from hotdeals.errors import IdempotencyKeyReused
from hotdeals.services.ranking import RankedDeal, rankings_under, replay_deals


class StaleSnapshot(Exception):
    """The ranked project was paused or a ranked deal deactivated after the ranking was made."""


class _ShownDealsGone(Exception):
    """Raised inside a batch's transaction to undo it: these shown deals are no longer live."""

    def __init__(self, bandit_ids: frozenset[int]) -> None:
        super().__init__(sorted(bandit_ids))
        self.bandit_ids = bandit_ids


@dataclass(frozen=True, slots=True)
class Replay:
    """A keyed rank that logged nothing: the deals its Idempotency-Key already answered."""

    deals: list[RankedDeal]


@dataclass(slots=True)
class RankJob:
    """One ranking's impressions and, when it has an Idempotency-Key, the claim to log it under."""

    impressions: Sequence[Impression]
    claim: KeyClaim | None = None
    future: Future[list[int] | Replay] = field(default_factory=Future)

    @classmethod
    def of(cls, impressions: Sequence[Impression], idempotency_key: str | None) -> RankJob:
        """The job; a key needs the impressions of one ranking (one project, one customer)."""
        if idempotency_key is None:
            return cls(impressions)
        whose = {(i.project_id, i.customer_id) for i in impressions}
        if len(whose) != 1:
            raise ValueError("a keyed ranking shows one project's deals to one customer")
        ((project_id, customer_id),) = whose
        return cls(impressions, KeyClaim(idempotency_key, project_id, customer_id))

    @property
    def key(self) -> str | None:
        return None if self.claim is None else self.claim.key

    def shows_any(self, bandit_ids: Collection[int]) -> bool:
        return bool(bandit_ids) and any(i.bandit_id in bandit_ids for i in self.impressions)


@dataclass(slots=True)
class ClickJob:
    """A click on one impression."""

    transaction_id: int
    future: Future[ClickOutcome | None] = field(default_factory=Future)


Job = RankJob | ClickJob


def write_batch(
    sessions: sessionmaker[Session], batch: Sequence[Job], now: datetime
) -> list[object]:
    """Write the batch in one transaction; return each job's result, in order (an exception
    instance is that job's error). Rewritten without the rankings that showed a deal no longer
    live until none does; ends, as ``stale`` grows at each round."""
    stale: frozenset[int] = frozenset()
    while True:
        try:
            with sessions.begin() as session:
                results = _write_once(session, batch, stale, now)
        except _ShownDealsGone as exc:  # leaving the block rolled the transaction back
            stale |= exc.bandit_ids
            continue
        return [results[id(job)] for job in batch]


def _write_once(
    session: Session, batch: Sequence[Job], stale: frozenset[int], now: datetime
) -> dict[int, object]:
    """Steps 1 to 6 of the module's docstring; each job's result by ``id(job)``."""
    ranks = [j for j in batch if isinstance(j, RankJob)]
    clicks = [j for j in batch if isinstance(j, ClickJob)]
    results: dict[int, object] = {}
    outcomes = mark_clicked(session, [j.transaction_id for j in clicks], now) if clicks else []
    for click, outcome in zip(clicks, outcomes, strict=True):
        results[id(click)] = outcome

    owners: dict[str, RankJob] = {}
    for job in ranks:
        if job.claim is not None:
            owners.setdefault(job.claim.key, job)
    live = {key: job for key, job in owners.items() if not job.shows_any(stale)}

    # Optimistically: every live ranking logs (a keyed one if it owns its key in this batch),
    # then the keys are claimed with the ids already in their rows, in one statement.
    def logs(job: RankJob) -> bool:
        key = job.key
        return not job.shows_any(stale) if key is None else live.get(key) is job

    writing = [job for job in ranks if logs(job)]
    ids = insert_impressions(session, [i for job in writing for i in job.impressions], now)
    own: dict[int, list[int]] = {}
    logged: dict[str, list[int]] = {}
    start = 0
    for job in writing:
        own[id(job)] = ids[start : start + len(job.impressions)]
        start += len(job.impressions)
        if job.key is not None:
            logged[job.key] = own[id(job)]
    claimed = claim_keys(session, [job.claim for job in live.values() if job.claim], logged)
    # A key taken before (a retry): its impressions are undone, the earlier ranking answers.
    retried = [job for job in writing if job.key is not None and job.key not in claimed]
    if retried:
        discard_impressions(session, [t for job in retried for t in own[id(job)]])
        writing = [job for job in writing if job not in retried]
    for job in writing:
        results[id(job)] = own[id(job)]
    impressions = [i for job in writing for i in job.impressions]
    _answer_retries(session, [j for j in ranks if j.key in live and id(j) not in results], results)
    for job in ranks:  # the rest showed a deal no longer live, or share a key with one that did
        results.setdefault(id(job), StaleSnapshot())

    states = count_events(session, impressions, outcomes, now)
    gone = frozenset(i.bandit_id for i in impressions if not states[i.bandit_id].live)
    if gone:
        raise _ShownDealsGone(gone)
    return results


def _answer_retries(session: Session, retries: list[RankJob], results: dict[int, object]) -> None:
    """Answer keyed ranks that logged nothing from what their keys hold; one read for all."""
    if not retries:
        return
    earlier = rankings_under(session, {job.key for job in retries if job.key is not None})
    for job in retries:
        assert job.claim is not None
        try:
            results[id(job)] = Replay(replay_deals(earlier, job.claim))
        except (IdempotencyKeyReused, LookupError) as exc:
            results[id(job)] = exc
