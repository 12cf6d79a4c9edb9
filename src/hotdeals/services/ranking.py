"""The learning loop's two hot calls: rank the deals for a customer, and record a click.

Each is one database transaction. Rank reads the active arms' posteriors, lets the project's
policy order them, and logs the shown deals with the atomic counter SQL of
:mod:`hotdeals.db.counters`, so the next request already learns from this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotdeals.bandit import ArmSet, make_policy
from hotdeals.db.counters import ClickOutcome, Impression, log_impressions, record_click
from hotdeals.db.models import Bandit, Project, RankRequest, Transaction, User
from hotdeals.errors import (
    IdempotencyKeyReused,
    NoActiveDeals,
    ProjectNotFound,
    ProjectNotRunning,
    UserNotFound,
)


@dataclass(frozen=True, slots=True)
class RankedDeal:
    """One deal in one slot, with the impression to report a click on."""

    position: int
    bandit_id: int
    bandit_name: str
    transaction_id: int


@dataclass(frozen=True, slots=True)
class Ranking:
    """The answer to a rank request; ``replayed`` when an Idempotency-Key matched."""

    project_id: int
    customer_id: int
    deals: list[RankedDeal]
    replayed: bool = False


def rank_deals(
    session: Session,
    project_id: int,
    customer_id: int,
    rng: np.random.Generator,
    *,
    k: int | None = None,
    idempotency_key: str | None = None,
    at: datetime | None = None,
) -> Ranking:
    """Order the running project's active deals for one customer and log the top k shown.

    ``k`` defaults to the project's slots and is capped at the number of active deals. ``at``
    back-dates the impressions (demo history, imports); live traffic leaves it to the clock.
    """
    project = session.get(Project, project_id)
    if project is None:
        raise ProjectNotFound(f"project {project_id} does not exist")
    if session.get(User, customer_id) is None:
        raise UserNotFound(f"customer {customer_id} does not exist")
    if idempotency_key is not None:
        earlier = _claim_key(session, idempotency_key, project_id, customer_id)
        if earlier is not None:
            return earlier
    if project.status != "running":
        raise ProjectNotRunning(f"project {project_id} is {project.status}, not running")
    arms = session.execute(
        select(
            Bandit.bandit_id,
            Bandit.bandit_name,
            Bandit.alpha,
            Bandit.beta,
            Bandit.n,
            Bandit.number_of_success,
        )
        .where(Bandit.project_id == project_id, Bandit.active.is_(True))
        .order_by(Bandit.bandit_id)
    ).all()
    if not arms:
        raise NoActiveDeals(f"project {project_id} has no active deals")
    arm_set = ArmSet(
        alpha=np.array([a.alpha for a in arms], dtype=np.float64),
        beta=np.array([a.beta for a in arms], dtype=np.float64),
        pulls=np.array([a.n for a in arms], dtype=np.int64),
        successes=np.array([a.number_of_success for a in arms], dtype=np.int64),
    )
    policy = make_policy(project.policy, epsilon=project.epsilon)
    order = policy.rank(arm_set, min(k or project.slots, len(arms)), rng)
    chosen = [arms[int(i)] for i in order]
    ids = log_impressions(
        session,
        [
            Impression(customer_id, project_id, arm.bandit_id, position, at)
            for position, arm in enumerate(chosen, start=1)
        ],
    )
    if idempotency_key is not None:
        session.get_one(RankRequest, idempotency_key).transaction_ids = ids
    deals = [
        RankedDeal(position, arm.bandit_id, arm.bandit_name, transaction_id)
        for position, (arm, transaction_id) in enumerate(zip(chosen, ids, strict=True), start=1)
    ]
    return Ranking(project_id, customer_id, deals)


def _claim_key(session: Session, key: str, project_id: int, customer_id: int) -> Ranking | None:
    """Reserve ``key`` for this request, or return the answer it already got.

    The insert comes first: a concurrent retry with the same key blocks on the primary key
    until the first request commits, then reads its answer here.
    """
    try:
        with session.begin_nested():
            session.add(
                RankRequest(
                    idempotency_key=key,
                    project_id=project_id,
                    customer_id=customer_id,
                    transaction_ids=[],
                )
            )
            session.flush()
        return None
    except IntegrityError:
        pass
    earlier = session.get_one(RankRequest, key, populate_existing=True)
    if (earlier.project_id, earlier.customer_id) != (project_id, customer_id):
        raise IdempotencyKeyReused(
            f"Idempotency-Key {key!r} was used for another project or customer"
        )
    rows = session.execute(
        select(
            Transaction.transaction_id, Transaction.position, Bandit.bandit_id, Bandit.bandit_name
        )
        .join(Bandit, Bandit.bandit_id == Transaction.bandit_id)
        .where(Transaction.transaction_id.in_(earlier.transaction_ids))
        .order_by(Transaction.position)
    ).all()
    deals = [
        RankedDeal(row.position, row.bandit_id, row.bandit_name, row.transaction_id) for row in rows
    ]
    return Ranking(project_id, customer_id, deals, replayed=True)


def click(session: Session, transaction_id: int, at: datetime | None = None) -> ClickOutcome:
    """Count the first click on an impression; later clicks change nothing and say so."""
    return record_click(session, transaction_id, at)
