"""The decision panel: how far a campaign is from a decision, when it will get there, and what
it has earned so far against showing every deal equally.

Everything here is read from counters (the deals' own and the per deal and slot ones), never
from the log, so its cost does not grow with the campaign's history; the one expensive part,
the forward simulation of the forecast, is cached per campaign (:class:`ForecastCache`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np

from hotdeals.bandit.forecast import Forecast, forecast_decision
from hotdeals.bandit.uplift import uplift_vs_even
from hotdeals.bandit.winner import Verdict, WinnerRule
from hotdeals.db.models import Bandit, Project
from hotdeals.services.forecast_cache import ForecastCache
from hotdeals.services.posteriors import slotted
from hotdeals.services.slot_effects import SlotEffects
from hotdeals.vocabulary import EffectiveStatus, Objective

DecisionState = Literal["collecting", "winner", "no_meaningful_difference", "rollout", "ended"]


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition of the winner rule, as the panel shows it."""

    name: Literal["prob_best", "relative_loss", "leader_impressions", "duration_days"]
    value: float
    threshold: float
    met: bool
    text: str


@dataclass(frozen=True, slots=True)
class ForecastView:
    """Further impressions (and days at the last 24 hours' traffic) until the rule fires."""

    impressions_median: float | None
    impressions_p90: float | None
    days_median: float | None
    days_p90: float | None
    decided_share: float
    horizon: int
    paths: int
    computed_at: datetime


@dataclass(frozen=True, slots=True)
class UpliftView:
    """Clicks so far against the expected clicks of an even split, with a 95% interval."""

    clicks: int
    even_expected: float
    gained: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class Decision:
    state: DecisionState
    summary: str
    showing: str
    leader_bandit_id: int | None
    leader_name: str | None
    conditions: list[Condition]
    missing: list[str]
    forecast: ForecastView | None
    uplift: UpliftView | None


def conditions_of(
    verdict: Verdict, rule: WinnerRule, elapsed_days: float, min_days: float
) -> list[Condition]:
    """The rule's conditions with their values, thresholds and texts (duration only if set);
    none but the duration without an active deal to lead."""
    found = (
        []
        if verdict.leader is None
        else [
            Condition(
                "prob_best",
                verdict.prob_best,
                rule.min_prob_best,
                verdict.prob_best_met,
                f"P(best) {verdict.prob_best:.2f} of {rule.min_prob_best:.2f}",
            ),
            Condition(
                "relative_loss",
                verdict.relative_loss,
                rule.max_relative_loss,
                verdict.loss_met,
                f"expected loss {verdict.relative_loss:.2%} of the leader's CTR, "
                f"needs under {rule.max_relative_loss:.2%}",
            ),
            Condition(
                "leader_impressions",
                float(verdict.leader_impressions),
                float(rule.min_impressions),
                verdict.floor_met,
                f"leader's impressions {verdict.leader_impressions:,} of {rule.min_impressions:,}",
            ),
        ]
    )
    # Undefined (revenue: an infinite expected loss), so not a condition to show or to meet.
    found = [c for c in found if not (c.name == "relative_loss" and math.isnan(c.value))]
    if min_days > 0:
        found.append(
            Condition(
                "duration_days",
                elapsed_days,
                min_days,
                elapsed_days >= min_days,
                f"running {elapsed_days:.1f} of {min_days:g} days",
            )
        )
    return found


def moment(at: datetime) -> str:
    """A time as the pages write it: ``2026-12-07 00:00 UTC``."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def elapsed_days(project: Project, now: datetime) -> float:
    """Days since the campaign started (its ``starts_at``, else its creation)."""
    start = project.starts_at or project.created_at
    return max(0.0, (now - start) / timedelta(days=1))


@dataclass(frozen=True)
class Reading:
    """What the panel is built from, gathered by :func:`hotdeals.services.analytics.project_stats`.

    ``live_*`` arrays cover the active deals only (the ones the rule compares), ``verdict`` is
    the rule's reading of them.
    """

    project: Project
    arms: Sequence[Bandit]
    live: Sequence[Bandit]
    live_alpha: np.ndarray
    live_beta: np.ndarray
    verdict: Verdict
    rule: WinnerRule
    status: EffectiveStatus
    effects: SlotEffects
    impressions_last_24h: int
    now: datetime


def build_decision(
    reading: Reading,
    forecasts: ForecastCache,
    *,
    forecast_rng: np.random.Generator,
    uplift_rng: np.random.Generator,
    draws: int,
) -> Decision:
    """The panel: the rule's progress, the forecast while undecided, the uplift, the strip."""
    project, verdict, rule = reading.project, reading.verdict, reading.rule
    days = elapsed_days(project, reading.now)
    conditions = conditions_of(verdict, rule, days, project.min_duration_days)
    duration_met = days >= project.min_duration_days
    missing = [c.text for c in conditions if not c.met and c.name != "relative_loss"]
    has_loss = any(c.name == "relative_loss" for c in conditions)
    if verdict.leader is not None and has_loss and not (verdict.prob_best_met or verdict.loss_met):
        # Either condition decides: missing is "P(best) ... or expected loss ...", said once.
        missing = [f"{conditions[0].text} (or {conditions[1].text})", *missing[1:]]
    leader = None if verdict.leader is None else reading.live[verdict.leader]
    state = _state(reading, verdict.winner is not None and duration_met)
    forecast = None
    # The forecast simulates Beta posteriors forward: clicks or purchases, not revenue.
    forecastable = reading.project.objective != Objective.REVENUE
    if (
        state == "collecting"
        and leader is not None
        and reading.status in _FORECAST_WHEN
        and forecastable
    ):
        forecast = _forecast(reading, forecasts, forecast_rng, days)
    return Decision(
        state=state,
        summary=_summary(state, reading, leader, missing),
        showing=_showing(reading),
        leader_bandit_id=None if leader is None else leader.bandit_id,
        leader_name=None if leader is None else leader.bandit_name,
        conditions=conditions,
        missing=[] if state != "collecting" else missing,
        forecast=forecast,
        uplift=_uplift(reading, uplift_rng, draws),
    )


_FORECAST_WHEN = frozenset({EffectiveStatus.RUNNING, EffectiveStatus.SCHEDULED})


def _state(reading: Reading, decided: bool) -> DecisionState:
    if reading.status == EffectiveStatus.ROLLOUT:
        return "rollout"
    if reading.status == EffectiveStatus.ENDED:
        return "ended"
    if not decided:
        return "collecting"
    return "winner" if reading.verdict.prob_best_met else "no_meaningful_difference"


def _summary(
    state: DecisionState, reading: Reading, leader: Bandit | None, missing: list[str]
) -> str:
    verdict, rule = reading.verdict, reading.rule
    name = "" if leader is None else repr(leader.bandit_name)
    if state == "winner":
        return f"Winner: {name} is best with probability {verdict.prob_best:.2f}."
    if state == "no_meaningful_difference":
        return (
            f"No meaningful difference: ending with {name} gives up less than "
            f"{rule.max_relative_loss:.2%} of its CTR (P(best) {verdict.prob_best:.2f})."
        )
    if state == "rollout":
        return "Ended: the strip rolls out the result (" + _showing(reading) + ")."
    if state == "ended":
        return "Ended without a winner: the strip shows nothing."
    if leader is None:
        return "No active deals to decide between."
    return f"No decision yet; leader {name}. Missing: " + "; ".join(missing) + "."


def _showing(reading: Reading) -> str:
    """What rank answers now, in words."""
    project, status = reading.project, reading.status
    if status == EffectiveStatus.SCHEDULED and project.starts_at is not None:
        return f"nothing until the campaign starts at {moment(project.starts_at)}"
    if status == EffectiveStatus.PAUSED:
        return "nothing while the campaign is paused"
    if status == EffectiveStatus.ENDED:
        return "nothing"
    if status == EffectiveStatus.ROLLOUT:
        winner = next((a for a in reading.arms if a.bandit_id == project.winner_bandit_id), None)
        first = f"{winner.bandit_name!r} in slot 1" if winner else "the leader by posterior mean"
        return f"{first}, then the other deals by posterior mean, no exploration"
    return f"{project.policy} over {len(reading.live)} active deals in {project.slots} slots"


def _forecast(
    reading: Reading, forecasts: ForecastCache, rng: np.random.Generator, days: float
) -> ForecastView:
    live_pulls = np.array([a.n for a in reading.live], dtype=np.int64)

    def compute() -> Forecast:
        return forecast_decision(
            reading.live_alpha,
            reading.live_beta,
            live_pulls,
            reading.rule,
            rng,
            k=max(1, min(reading.project.slots, len(reading.live))),
        )

    forecast, computed_at = forecasts.get(reading.project.project_id, reading.now, compute)
    per_day = float(reading.impressions_last_24h)
    waiting = max(0.0, reading.project.min_duration_days - days)

    def in_days(impressions: float | None) -> float | None:
        if impressions is None or (per_day <= 0 and impressions > 0):
            return None
        return max(waiting, impressions / per_day if impressions else 0.0)

    return ForecastView(
        impressions_median=forecast.median,
        impressions_p90=forecast.p90,
        days_median=in_days(forecast.median),
        days_p90=in_days(forecast.p90),
        decided_share=forecast.decided_share,
        horizon=forecast.horizon,
        paths=forecast.paths,
        computed_at=computed_at,
    )


def _uplift(reading: Reading, rng: np.random.Generator, draws: int) -> UpliftView | None:
    """Against an even split of the slotted impressions among the campaign's deals."""
    effects = reading.effects
    if not reading.arms or effects.slot_impressions.sum() == 0:
        return None
    posteriors = slotted(reading.arms, effects)
    uplift = uplift_vs_even(
        effects.total_clicks,
        effects.slot_impressions,
        posteriors.alpha,
        posteriors.beta,
        rng,
        examination=effects.examination,
        draws=draws,
    )
    return UpliftView(uplift.clicks, uplift.even_expected, uplift.gained, uplift.low, uplift.high)
