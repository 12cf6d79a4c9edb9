"""The learning loop's two hot calls: rank the deals for a customer, and record a click.

Each is one database transaction. Rank reads the active arms' posteriors, lets the project's
policy order them, and logs the shown deals with the atomic counter SQL of
:mod:`hotdeals.db.counters`, so the next request already learns from this one. The pieces are
shared with the fast path (:mod:`hotdeals.services.learning`): choosing from a snapshot, and
replaying what an Idempotency-Key already holds (:func:`rankings_under`, :func:`replay_deals`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotdeals.bandit import ArmSet, revenue_scores
from hotdeals.bandit.ranking import top_k
from hotdeals.bandit.revenue import value_posterior
from hotdeals.db.counters import ClickOutcome, Impression, log_impressions, record_click
from hotdeals.db.models import Bandit, Transaction, User
from hotdeals.db.rank_keys import KeyClaim, claim_keys, read_keys, store_transaction_ids
from hotdeals.db.types import utcnow
from hotdeals.errors import (
    IdempotencyKeyReused,
    NoActiveDeals,
    ProjectNotRunning,
    UserNotFound,
)
from hotdeals.services.slot_effects import ExaminationFits
from hotdeals.services.snapshot import (
    DISPLAY_COLUMNS,
    SERVING,
    DealDisplay,
    ProjectSnapshot,
    display_of,
    load_snapshot,
)
from hotdeals.vocabulary import DEFAULT_CURRENCY, EffectiveStatus, ProjectStatus


@dataclass(frozen=True, slots=True)
class RankedDeal:
    """One deal in one slot, with the impression to report a click on."""

    position: int
    bandit_id: int
    bandit_name: str
    transaction_id: int
    display: DealDisplay = field(default_factory=DealDisplay)


@dataclass(frozen=True, slots=True)
class Ranking:
    """The answer to a rank request; ``replayed`` when an Idempotency-Key matched."""

    project_id: int
    customer_id: int
    deals: list[RankedDeal]
    replayed: bool = False
    currency: str = DEFAULT_CURRENCY


def choose(
    snapshot: ProjectSnapshot, k: int | None, rng: np.random.Generator, now: datetime
) -> list[int]:
    """Indices into the snapshot's arms of the deals to show at ``now``, best first.

    ``k`` defaults to the project's slots and is capped at the number of deals in their windows.
    Running: the policy orders them. Rolling out: the winner first (if it can be shown), then
    the others by posterior mean, no exploration. Otherwise :class:`ProjectNotRunning`.
    """
    status = snapshot.effective_status(now)
    if status not in SERVING:
        raise ProjectNotRunning(_not_serving(snapshot, status))
    if not snapshot.arm_ids:
        raise NoActiveDeals(f"project {snapshot.project_id} has no active deals")
    live = snapshot.live_arms(now)
    if not live:
        raise NoActiveDeals(
            f"project {snapshot.project_id} has no active deal inside its schedule now"
        )
    slots = min(k or snapshot.slots, len(live))
    if status == EffectiveStatus.ROLLOUT:
        return _rollout_order(snapshot, live)[:slots]
    if snapshot.revenue is not None:
        return _by_revenue(snapshot, live, slots, rng)
    if len(live) == len(snapshot.arm_ids):
        return [int(i) for i in snapshot.policy.rank(snapshot.arms, slots, rng)]
    arms = snapshot.arms
    subset = ArmSet(arms.alpha[live], arms.beta[live], arms.pulls[live], arms.successes[live])
    return [live[int(i)] for i in snapshot.policy.rank(subset, slots, rng)]


def _by_revenue(
    snapshot: ProjectSnapshot, live: list[int], slots: int, rng: np.random.Generator
) -> list[int]:
    """Thompson sampling on revenue per impression (:func:`hotdeals.bandit.revenue_scores`)."""
    arms, revenue = snapshot.arms, snapshot.revenue
    assert revenue is not None
    scores = revenue_scores(
        arms.alpha[live],
        arms.beta[live],
        revenue.prior,
        arms.successes[live],
        revenue.log_value_sum[live],
        revenue.log_value_square_sum[live],
        rng,
    )
    return [live[int(i)] for i in top_k(scores[np.newaxis, :], slots)[0]]


def _rollout_order(snapshot: ProjectSnapshot, live: list[int]) -> list[int]:
    """The winner (when it is live), then the rest by posterior mean, highest first (ties: the
    older deal first, so the order is stable between requests); revenue campaigns by the
    posterior mean of conversion times the value's mean at its posterior mean variance."""
    mean = snapshot.arms.alpha / (snapshot.arms.alpha + snapshot.arms.beta)
    if snapshot.revenue is not None:
        m, _, a, b = value_posterior(
            snapshot.revenue.prior,
            snapshot.arms.successes,
            snapshot.revenue.log_value_sum,
            snapshot.revenue.log_value_square_sum,
        )
        mean = mean * np.exp(m + 0.5 * b / (a - 1.0))  # a >= a0 = 2
    rest = sorted(live, key=lambda i: (-mean[i], snapshot.arm_ids[i]))
    winner = [i for i in rest if snapshot.arm_ids[i] == snapshot.winner_id]
    return winner + [i for i in rest if i not in winner]


def _not_serving(snapshot: ProjectSnapshot, status: EffectiveStatus) -> str:
    project = f"project {snapshot.project_id}"
    starts_at, ends_at = snapshot.window
    if status == EffectiveStatus.SCHEDULED and starts_at is not None:
        return f"{project} is scheduled: it starts at {starts_at.isoformat()}"
    if snapshot.status == ProjectStatus.RUNNING and ends_at is not None:
        return f"{project} ended at its scheduled end, {ends_at.isoformat()}"
    if status == EffectiveStatus.ENDED:
        return f"{project} is ended without a winner, not running"
    return f"{project} is {status}, not running"


def impressions_for(
    snapshot: ProjectSnapshot, chosen: list[int], customer_id: int, at: datetime | None = None
) -> list[Impression]:
    """The impressions to log for the chosen arms, one per slot."""
    return [
        Impression(customer_id, snapshot.project_id, snapshot.arm_ids[i], position, at)
        for position, i in enumerate(chosen, start=1)
    ]


def ranking_of(
    snapshot: ProjectSnapshot, chosen: list[int], customer_id: int, transaction_ids: list[int]
) -> Ranking:
    """The answer for the chosen arms once their impressions are logged."""
    deals = [
        RankedDeal(
            position,
            snapshot.arm_ids[i],
            snapshot.arm_names[i],
            transaction_id,
            snapshot.arm_display[i],
        )
        for position, (i, transaction_id) in enumerate(
            zip(chosen, transaction_ids, strict=True), start=1
        )
    ]
    return Ranking(snapshot.project_id, customer_id, deals, currency=snapshot.currency)


def rank_deals(
    session: Session,
    project_id: int,
    customer_id: int,
    rng: np.random.Generator,
    *,
    k: int | None = None,
    idempotency_key: str | None = None,
    at: datetime | None = None,
    now: datetime | None = None,
    fits: ExaminationFits | None = None,
) -> Ranking:
    """Order the running project's active deals for one customer and log the top k shown.

    Everything in this one transaction, read fresh from the database: the exact path, used for
    back-dated history and whenever the fast path is in doubt (a paused project, no active
    deals, a deal deactivated since its snapshot). ``at`` back-dates the impressions (demo
    history, imports); ``now`` is the clock the schedules are read against (default: ``at``, else
    the wall clock); ``fits`` reuses a recent examination fit (position correction). An
    ``idempotency_key`` is claimed first, so a concurrent request with the
    same key (on either path, in any process) waits for this transaction and then replays what
    it committed; a key already taken replays its ranking whatever the project's state now.
    """
    now = now or at or utcnow()
    snapshot = load_snapshot(session, project_id, fits, now)
    if session.get(User, customer_id) is None:
        raise UserNotFound(f"customer {customer_id} does not exist")
    if idempotency_key is not None:
        claim = KeyClaim(idempotency_key, project_id, customer_id)
        if not claim_keys(session, [claim]):
            deals = replay_deals(rankings_under(session, [idempotency_key]), claim)
            return Ranking(
                project_id, customer_id, deals, replayed=True, currency=snapshot.currency
            )
    chosen = choose(snapshot, k, rng, now)
    ids = log_impressions(session, impressions_for(snapshot, chosen, customer_id, at), now)
    if idempotency_key is not None:
        store_transaction_ids(session, {idempotency_key: ids})
    return ranking_of(snapshot, chosen, customer_id, ids)


@dataclass(frozen=True, slots=True)
class KeyedRanking:
    """A ranking logged under an Idempotency-Key: whose it was and the deals it showed."""

    project_id: int
    customer_id: int
    deals: list[RankedDeal]


def rankings_under(session: Session, keys: Collection[str]) -> dict[str, KeyedRanking]:
    """The rankings these taken keys hold, their deals in slot order, as they read now.

    Two SELECT statements whatever the number of keys: the keys' rows, then every impression they
    logged joined with its deal. Both paths replay through here.
    """
    rows = read_keys(session, keys)
    owner = {tid: key for key, row in rows.items() for tid in row.transaction_ids}
    deals: dict[str, list[RankedDeal]] = {key: [] for key in rows}
    if owner:
        shown = session.execute(
            select(
                Transaction.transaction_id,
                Transaction.position,
                Bandit.bandit_id,
                Bandit.bandit_name,
                *DISPLAY_COLUMNS,
            )
            .join(Bandit, Bandit.bandit_id == Transaction.bandit_id)
            .where(Transaction.transaction_id.in_(sorted(owner)))
            .order_by(Transaction.position, Transaction.transaction_id)
        )
        for r in shown:
            deal = RankedDeal(
                r.position, r.bandit_id, r.bandit_name, r.transaction_id, display_of(r)
            )
            deals[owner[r.transaction_id]].append(deal)
    return {
        key: KeyedRanking(row.project_id, row.customer_id, deals[key]) for key, row in rows.items()
    }


def replay_deals(earlier: Mapping[str, KeyedRanking], claim: KeyClaim) -> list[RankedDeal]:
    """The deals ``claim``'s taken key answered, for the same project and customer only.

    :class:`IdempotencyKeyReused` when the key was used for another project or customer.
    """
    found = earlier.get(claim.key)
    if found is None:  # a taken key has a row this transaction sees; rows are never deleted
        raise LookupError(f"Idempotency-Key {claim.key!r} is taken but holds no ranking")
    if (found.project_id, found.customer_id) != (claim.project_id, claim.customer_id):
        raise IdempotencyKeyReused(
            f"Idempotency-Key {claim.key!r} was used for another project or customer"
        )
    return found.deals


def click(session: Session, transaction_id: int, at: datetime | None = None) -> ClickOutcome:
    """Count the first click on an impression; later clicks change nothing and say so."""
    return record_click(session, transaction_id, at)
