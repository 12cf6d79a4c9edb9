"""What ranking reads of a project in one go: its state, schedule and active arms' posteriors.

The fast path caches a snapshot for a few milliseconds (:mod:`~hotdeals.services.snapshot_cache`)
and the exact path reads a fresh one; both choose from it (:mod:`~hotdeals.services.ranking`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotdeals.bandit import ArmSet, Policy, ValuePrior, make_policy
from hotdeals.bandit.arrays import FloatArray
from hotdeals.db.models import Bandit, Project
from hotdeals.db.types import utcnow
from hotdeals.errors import ProjectNotFound
from hotdeals.services.posteriors import all_time, of_purchases, recent
from hotdeals.services.purchase_stats import value_prior
from hotdeals.services.schedules import effective_status, in_window
from hotdeals.services.slot_effects import ExaminationFits, slot_effects
from hotdeals.vocabulary import DEFAULT_CURRENCY, EffectiveStatus, EndAction, Objective


@dataclass(frozen=True, slots=True)
class DealDisplay:
    """What a page shows of a deal beside its name (all optional), read with the snapshot."""

    description: str | None = None
    price: Decimal | None = None
    emoji: str | None = None
    image_url: str | None = None


Window = tuple[datetime | None, datetime | None]
"""``(starts_at, ends_at)`` of a campaign or a deal: see :mod:`hotdeals.services.schedules`."""


@dataclass(frozen=True, slots=True)
class ProjectSnapshot:
    """What ranking needs to know of a project, read in one go: its state and its active arms.

    Immutable, so the fast path can share one snapshot between requests for a few milliseconds.
    The schedules travel with it and are evaluated per request against the caller's clock.
    """

    project_id: int
    status: str
    slots: int
    policy: Policy
    arm_ids: tuple[int, ...]
    arm_names: tuple[str, ...]
    arms: ArmSet
    arm_display: tuple[DealDisplay, ...] = ()
    currency: str = DEFAULT_CURRENCY
    winner_id: int | None = None
    window: Window = (None, None)
    end_action: str = EndAction.STOP.value
    arm_windows: tuple[Window, ...] = ()
    arms_scheduled: bool = False
    """Whether any arm has a window (else every arm is live whenever the campaign is)."""
    revenue: RevenueArms | None = None
    """With the revenue objective, what its posterior reads beside ``arms`` (purchases)."""

    def effective_status(self, now: datetime) -> EffectiveStatus:
        return effective_status(
            self.status,
            has_winner=self.winner_id is not None,
            starts_at=self.window[0],
            ends_at=self.window[1],
            end_action=self.end_action,
            now=now,
        )

    def live_arms(self, now: datetime) -> list[int]:
        """Indices of the arms inside their own windows at ``now`` (all without windows)."""
        if not self.arms_scheduled:
            return list(range(len(self.arm_ids)))
        return [i for i, (start, end) in enumerate(self.arm_windows) if in_window(start, end, now)]

    def serves(self, now: datetime) -> bool:
        """Whether rank answers from this snapshot at ``now``: running or rolling out, with a
        deal in its window; anything else is decided (and worded) on the exact path."""
        return self.effective_status(now) in SERVING and bool(self.live_arms(now))


SERVING = frozenset({EffectiveStatus.RUNNING, EffectiveStatus.ROLLOUT})


@dataclass(frozen=True, slots=True)
class RevenueArms:
    """The value statistics of each arm's purchases and the campaign's value prior."""

    prior: ValuePrior
    log_value_sum: FloatArray
    log_value_square_sum: FloatArray


def load_snapshot(
    session: Session,
    project_id: int,
    fits: ExaminationFits | None = None,
    now: datetime | None = None,
) -> ProjectSnapshot:
    """The project's status, policy and active arms' posteriors, or :class:`ProjectNotFound`.

    The posteriors are those of :mod:`hotdeals.services.posteriors`: with ``position_correction``
    on a campaign of several slots, position-corrected (one more read of deals x slots rows per
    load; the examination fit is reused from ``fits`` when given); with a half-life, discounted
    to ``now`` (default: the clock).
    """
    project = session.get(Project, project_id)
    if project is None:
        raise ProjectNotFound(f"project {project_id} does not exist")
    rows = session.execute(
        select(
            Bandit.bandit_id,
            Bandit.bandit_name,
            Bandit.alpha,
            Bandit.beta,
            Bandit.n,
            Bandit.number_of_success,
            Bandit.starts_at,
            Bandit.ends_at,
            Bandit.prior_alpha,
            Bandit.prior_beta,
            Bandit.discounted_impressions,
            Bandit.discounted_clicks,
            Bandit.discounted_at,
            Bandit.purchases,
            Bandit.log_value_sum,
            Bandit.log_value_square_sum,
            *DISPLAY_COLUMNS,
        )
        .where(Bandit.project_id == project_id, Bandit.active.is_(True))
        .order_by(Bandit.bandit_id)
    ).all()
    arm_ids = tuple(r.bandit_id for r in rows)
    effects = (
        slot_effects(session, project_id, arm_ids, project.slots, fits=fits)
        if project.position_correction and project.slots > 1 and rows
        else None
    )
    if project.objective != Objective.CLICK:
        posteriors = of_purchases(rows)  # the other settings are click-only (objectives)
    elif project.half_life_hours is None:
        posteriors = all_time(rows, effects)
    else:
        posteriors = recent(rows, project.half_life_hours, (now or utcnow()).timestamp(), effects)
    counted = "purchases" if project.objective != Objective.CLICK else "number_of_success"
    windows = tuple((r.starts_at, r.ends_at) for r in rows)
    return ProjectSnapshot(
        project_id=project_id,
        status=project.status,
        slots=project.slots,
        policy=make_policy(project.policy, epsilon=project.epsilon),
        arm_ids=arm_ids,
        arm_names=tuple(r.bandit_name for r in rows),
        arms=ArmSet(
            alpha=posteriors.alpha,
            beta=posteriors.beta,
            pulls=np.array([r.n for r in rows], dtype=np.int64),
            successes=np.array([getattr(r, counted) for r in rows], dtype=np.int64),
        ),
        arm_display=tuple(display_of(r) for r in rows),
        currency=project.currency,
        winner_id=project.winner_bandit_id,
        window=(project.starts_at, project.ends_at),
        end_action=project.end_action,
        arm_windows=windows,
        arms_scheduled=any(start or end for start, end in windows),
        revenue=_revenue(rows) if project.objective == Objective.REVENUE else None,
    )


def _revenue(rows: Sequence[Any]) -> RevenueArms:
    return RevenueArms(
        value_prior(rows),
        np.array([r.log_value_sum for r in rows], dtype=np.float64),
        np.array([r.log_value_square_sum for r in rows], dtype=np.float64),
    )


DISPLAY_COLUMNS = (Bandit.description, Bandit.price, Bandit.emoji, Bandit.image_url)


def display_of(row: Any) -> DealDisplay:
    return DealDisplay(row.description, row.price, row.emoji, row.image_url)
