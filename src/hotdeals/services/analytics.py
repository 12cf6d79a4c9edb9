"""What the analyst sees: per-deal statistics and the winner (traffic over time: :mod:`.series`).

Everything is read from counters and rollups (``bandits``, ``bandit_positions``, ``deal_hours``):
one row per deal, whatever the size of the log.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from hotdeals.bandit import arm_statistics, credible_interval, posterior_mean
from hotdeals.db.discounted import seen_at
from hotdeals.db.models import Bandit, Project
from hotdeals.db.types import utcnow
from hotdeals.services.decisions import Decision, Reading, build_decision
from hotdeals.services.judging import judge
from hotdeals.services.posteriors import recent, slotted
from hotdeals.services.projects import require_project
from hotdeals.services.purchase_stats import PurchaseFigures, purchase_figures
from hotdeals.services.schedules import project_status
from hotdeals.services.series import last_day_impressions
from hotdeals.services.slot_effects import SlotEffects, slot_effects
from hotdeals.services.stats_caches import StatsCaches
from hotdeals.vocabulary import Objective


@dataclass(frozen=True, slots=True)
class DealStats:
    """One deal's figures; the Bayesian ones are None for a deactivated deal.

    The ``*_corrected`` figures count each impression as its slot's examination probability
    (:mod:`hotdeals.services.slot_effects`): None while there is no slot effect to correct. The
    ``recent_*`` ones are the discounted view rank samples from in a campaign with a half-life
    (:mod:`hotdeals.services.posteriors`), None in one without.
    """

    bandit_id: int
    bandit_name: str
    active: bool
    impressions: int
    clicks: int
    ctr: float
    posterior_mean: float
    ci_low: float
    ci_high: float
    prob_best: float | None
    expected_loss: float | None
    share_last_24h: float
    ctr_corrected: float | None = None
    ci_low_corrected: float | None = None
    ci_high_corrected: float | None = None
    recent_impressions: float | None = None
    recent_clicks: float | None = None
    recent_ctr: float | None = None
    ci_low_recent: float | None = None
    ci_high_recent: float | None = None
    purchases: int = 0
    purchase_value: float = 0.0
    purchase: PurchaseFigures | None = None
    """Conversion and revenue per impression and per click (:mod:`.purchase_stats`)."""


@dataclass(frozen=True, slots=True)
class Winner:
    """The campaign's winning deal and its P(best).

    ``chosen`` is true when the analyst named it on ending the campaign, false when the winner
    rule found it.
    """

    bandit_id: int
    bandit_name: str
    prob_best: float
    chosen: bool = False


@dataclass(frozen=True, slots=True)
class ProjectStats:
    project_id: int
    bandits: list[DealStats]
    winner: Winner | None
    decision: Decision | None = None
    examination: list[float] = field(default_factory=list)


def project_stats(
    session: Session,
    project_id: int,
    *,
    draws: int = 20_000,
    now: datetime | None = None,
    caches: StatsCaches | None = None,
) -> ProjectStats:
    """Per-deal CTR, 95% credible interval, P(best) and expected loss, the winner if any, and
    the decision panel (:mod:`hotdeals.services.decisions`) as of ``now``.

    The winner is the one the analyst named on ending the campaign when there is one
    (``chosen``), else the one the winner rule finds, if any: P(best) or the value remaining
    among the active deals, the leader's own impressions, and the campaign's minimum duration.
    A deactivated deal cannot be shown, so it cannot win the rule (a deactivated deal the
    analyst chose gets its P(best) against the active deals). Every Monte Carlo generator is
    seeded from the counts, so the same data always gives the same figures (a dashboard
    refresh does not flicker). ``caches`` keep the forecast, the deals' purchase figures and the
    last slot fit between calls (:class:`~hotdeals.services.stats_caches.StatsCaches`).
    """
    now = now or utcnow()
    caches = caches or StatsCaches()
    project = require_project(session, project_id)
    recent = last_day_impressions(session, project_id, now)
    total_recent = sum(recent.values())
    arms = project.bandits  # by id; already loaded when the caller read the project with them
    if not arms:
        return ProjectStats(project_id, [], None)
    alpha = np.array([a.alpha for a in arms])
    beta = np.array([a.beta for a in arms])
    active = np.array([a.active for a in arms], dtype=bool)
    seed = [project_id, *(int(a.n) for a in arms), *(int(a.number_of_success) for a in arms)]
    if project.objective != Objective.CLICK:
        seed += [int(a.purchases) for a in arms]
    # Mean and interval are closed-form for every deal; only P(best) needs the Monte Carlo
    # draws, and only among the active deals.
    mean = posterior_mean(alpha, beta)
    ci_low, ci_high = credible_interval(alpha, beta)
    effects = slot_effects(
        session, project_id, [a.bandit_id for a in arms], project.slots, warm=caches.fits
    )
    corrected = _corrected(arms, effects) if effects.examination is not None else None
    prob_best = np.full(len(arms), np.nan)
    loss = np.full(len(arms), np.nan)
    live_arms = [a for a, on in zip(arms, active, strict=True) if on]
    judged = judge(project, arms, active, np.random.default_rng(seed), draws)
    rule, live = judged.rule, judged.live
    prob_best[active] = live.prob_best
    loss[active] = live.expected_loss
    verdict = rule.assess(live, np.array([a.n for a in live_arms], dtype=np.int64))
    status = project_status(project, now)
    reading = Reading(
        project,
        arms,
        live_arms,
        judged.live_alpha,
        judged.live_beta,
        verdict,
        rule,
        status,
        effects,
        total_recent,
        now,
    )
    # Its own generators (seeded from the counts as well): the forecast draws only when its
    # cache misses, and must not shift the uplift's draws when it does.
    decision = build_decision(
        reading,
        caches.forecasts,
        forecast_rng=np.random.default_rng([*seed, 1]),
        uplift_rng=np.random.default_rng([*seed, 2]),
        draws=draws,
    )
    winner: Winner | None = None
    if project.winner_bandit_id is not None:
        winner = _chosen_winner(
            project.winner_bandit_id, arms, prob_best, (alpha, beta, active), seed, draws
        )
    elif decision.state in ("winner", "no_meaningful_difference") and verdict.winner is not None:
        best = live_arms[verdict.winner]
        winner = Winner(best.bandit_id, best.bandit_name, float(live.prob_best[verdict.winner]))
    recent_view = _recent(arms, project, effects, now)
    bought = purchase_figures(arms, caches.purchases)
    # Python floats by list (NaN as None), not one NumPy scalar at a time: a thousand deals.
    means, lows, highs = mean.tolist(), ci_low.tolist(), ci_high.tolist()
    chances, losses = _floats_or_none(prob_best), _floats_or_none(loss)
    plain = [None] * len(arms)
    fixed = plain, plain, plain
    if corrected is not None:
        fixed = corrected[0].tolist(), corrected[1].tolist(), corrected[2].tolist()
    deals = [
        DealStats(
            bandit_id=arm.bandit_id,
            bandit_name=arm.bandit_name,
            active=arm.active,
            impressions=arm.n,
            clicks=arm.number_of_success,
            ctr=arm.number_of_success / arm.n if arm.n else 0.0,
            posterior_mean=means[i],
            ci_low=lows[i],
            ci_high=highs[i],
            prob_best=chances[i],
            expected_loss=losses[i],
            share_last_24h=recent.get(arm.bandit_id, 0) / total_recent if total_recent else 0.0,
            ctr_corrected=fixed[0][i],
            ci_low_corrected=fixed[1][i],
            ci_high_corrected=fixed[2][i],
            **(recent_view[i] if recent_view else {}),
            purchases=arm.purchases,
            purchase_value=float(arm.purchase_value),
            purchase=bought[i],
        )
        for i, arm in enumerate(arms)
    ]
    examination = [] if effects.examination is None else [float(e) for e in effects.examination]
    return ProjectStats(project_id, deals, winner, decision, examination)


def _floats_or_none(values: NDArray[np.float64]) -> list[float | None]:
    return [None if math.isnan(v) else v for v in values.tolist()]


def _recent(
    arms: Sequence[Bandit], project: Project, effects: SlotEffects, now: datetime
) -> list[dict[str, float]]:
    """Each deal's discounted figures at ``now`` (none without a half-life)."""
    if project.half_life_hours is None:
        return []
    at = now.timestamp()
    seen = [seen_at(arm, at, project.half_life_hours) for arm in arms]
    with_fit = effects if project.position_correction else None
    view = recent(arms, project.half_life_hours, at, with_fit)
    low, high = credible_interval(view.alpha, view.beta)
    mean = posterior_mean(view.alpha, view.beta)
    return [
        {
            "recent_impressions": shown,
            "recent_clicks": clicked,
            "recent_ctr": float(mean[i]),
            "ci_low_recent": float(low[i]),
            "ci_high_recent": float(high[i]),
        }
        for i, (shown, clicked) in enumerate(seen)
    ]


def _corrected(
    arms: Sequence[Bandit], effects: SlotEffects
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Position-corrected posterior mean and 95% interval of every deal (its own prior)."""
    view = slotted(arms, effects)
    low, high = credible_interval(view.alpha, view.beta)
    return posterior_mean(view.alpha, view.beta), low, high


def _chosen_winner(
    bandit_id: int,
    arms: Sequence[Bandit],
    prob_best: NDArray[np.float64],
    posteriors: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]],
    seed: list[int],
    draws: int,
) -> Winner | None:
    """The analyst's winner with its P(best); a deactivated one is compared to the active deals."""
    index = next((i for i, arm in enumerate(arms) if arm.bandit_id == bandit_id), None)
    if index is None:
        return None
    chance = float(prob_best[index])
    if np.isnan(chance):
        alpha, beta, active = posteriors
        compared = active.copy()
        compared[index] = True
        figures = arm_statistics(
            alpha[compared], beta[compared], np.random.default_rng(seed), draws=draws
        )
        chance = float(figures.prob_best[int(compared[:index].sum())])
    return Winner(arms[index].bandit_id, arms[index].bandit_name, chance, chosen=True)
