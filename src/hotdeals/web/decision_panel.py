"""The decision panel in words: the campaign's verdict, each condition of the winner rule, the
forecast, the uplift and what the strip shows, every sentence formatted once.

The campaign page, its live feed and ``hotdeals stats`` all print these strings, so the browser
and the terminal never word a figure differently. The figures themselves are the services'
(:class:`hotdeals.services.decisions.Decision`); nothing is computed here but words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hotdeals.services.analytics import ProjectStats
from hotdeals.services.decisions import Condition, Decision, ForecastView, UpliftView
from hotdeals.web.rendering import DASH, fmt_int
from hotdeals.web.windows import stamp

__all__ = [
    "STATE_LABELS",
    "ConditionRow",
    "Panel",
    "about",
    "condition_row",
    "days_text",
    "examination_text",
    "forecast_text",
    "panel",
    "signed",
    "uplift_text",
]

STATE_LABELS = {
    "collecting": "Collecting evidence",
    "winner": "Winner found",
    "no_meaningful_difference": "No meaningful difference",
    "rollout": "Rolling out",
    "ended": "Ended",
}
_CONDITION_LABELS = {
    "prob_best": "P(best) of the leader",
    "relative_loss": "or: expected loss (share of its CTR)",
    "leader_impressions": "Leader's impressions",
    "duration_days": "Days running",
}
MINUS = "\u2212"  # a real minus sign, as in print


@dataclass(frozen=True, slots=True)
class ConditionRow:
    """One condition of the winner rule: its value now against what the rule needs."""

    name: str
    label: str
    value: str
    needed: str
    met: bool
    text: str


@dataclass(frozen=True, slots=True)
class Panel:
    """Everything the panel shows, already in words."""

    state: str
    state_label: str
    summary: str
    showing: str
    forecast: str
    uplift: str
    examination: str
    conditions: list[ConditionRow]


def _finite(value: float) -> bool:
    return not (math.isnan(value) or math.isinf(value))


def condition_row(condition: Condition) -> ConditionRow:
    """Value and threshold in the unit a reader expects of each condition."""
    value, threshold = condition.value, condition.threshold
    if condition.name == "prob_best":
        shown, needed = f"{value:.2f}", f"\u2265 {threshold:.2f}"
    elif condition.name == "relative_loss":
        shown = f"{value:.2%}"
        needed = f"< {threshold:.2%}" if threshold > 0 else "off"
    elif condition.name == "leader_impressions":
        shown, needed = fmt_int(int(value)) if _finite(value) else DASH, f"\u2265 {threshold:,.0f}"
    else:
        shown, needed = f"{value:.1f}", f"\u2265 {threshold:g}"
    if not _finite(value):
        shown = DASH
    return ConditionRow(
        name=condition.name,
        label=_CONDITION_LABELS.get(condition.name, condition.name),
        value=shown,
        needed=needed,
        met=condition.met,
        text=condition.text,
    )


def about(impressions: float) -> str:
    """A count to two significant figures ("about 1,200"): a forecast is not more precise."""
    if impressions < 100:
        return fmt_int(round(impressions))
    digits = len(str(int(impressions)))
    return fmt_int(int(round(impressions, 2 - digits)))


def days_text(days: float) -> str:
    """ "~2.3 days", "~12 days", "~5 hours", "under an hour"."""
    if days < 1 / 24:
        return "under an hour"
    if days < 1:
        return f"~{days * 24:.0f} hours"
    return f"~{days:.1f} days" if days < 10 else f"~{days:.0f} days"


def _impressions_and_days(
    impressions: float | None, days: float | None, horizon: int, more: str = ""
) -> str:
    if impressions is None:
        return f"more than {fmt_int(horizon)} impressions"
    if days is None:
        return f"{about(impressions)} {more}impressions"
    return f"{about(impressions)} {more}impressions, {days_text(days)}"


def forecast_text(decision: Decision) -> str:
    """The forecast sentence, or why there is none."""
    forecast: ForecastView | None = decision.forecast
    if forecast is None:
        return {
            "winner": "None needed: the rule has named a winner.",
            "no_meaningful_difference": "None needed: the rule has decided.",
            "rollout": "None: the campaign has ended.",
            "ended": "None: the campaign has ended.",
        }.get(decision.state, "None while no deal is being ranked (paused, or none active).")
    how = (
        f"Simulated forward from the posteriors ({forecast.paths} paths of up to "
        f"{fmt_int(forecast.horizon)} impressions), computed at {stamp(forecast.computed_at)}."
    )
    if forecast.impressions_median is None:
        return (
            f"Not within {fmt_int(forecast.horizon)} more impressions on most paths: "
            f"{forecast.decided_share:.0%} of them decide. {how}"
        )
    median = _impressions_and_days(
        forecast.impressions_median, forecast.days_median, forecast.horizon, "more "
    )
    p90 = _impressions_and_days(forecast.impressions_p90, forecast.days_p90, forecast.horizon)
    if forecast.days_median is None:
        return f"About {median} (90%: {p90}); no traffic in the last 24 hours to time it. {how}"
    return f"About {median} at current traffic (90%: {p90}). {how}"


def signed(value: float) -> str:
    """``+12``, ``0`` or minus 3 clicks, rounded; the minus is U+2212, as in print."""
    rounded = round(value)
    if rounded == 0:
        return "0"
    return f"+{rounded:,}" if rounded > 0 else f"{MINUS}{-rounded:,}"


def uplift_text(uplift: UpliftView | None) -> str:
    """ "+G clicks vs an even split (95%: L to H)" and the counts it compares."""
    if uplift is None:
        return "No impressions in the slots yet."
    return (
        f"{signed(uplift.gained)} clicks vs an even split (95%: {signed(uplift.low)} to "
        f"{signed(uplift.high)}): {fmt_int(uplift.clicks)} clicks so far, "
        f"{uplift.even_expected:,.1f} expected had every deal been shown equally."
    )


def examination_text(examination: list[float]) -> str:
    """The slots' fitted examination probabilities, or why there are none."""
    if not examination:
        return "Not estimated (one slot, or no impressions below slot 1 yet)."
    slots = ", ".join(f"slot {i} {e:.0%}" for i, e in enumerate(examination, start=1))
    return f"{slots} (fitted from the per-slot counts)."


def panel(stats: ProjectStats) -> Panel | None:
    """The panel of a campaign's figures; None for a campaign without deals."""
    decision = stats.decision
    if decision is None:
        return None
    return Panel(
        state=decision.state,
        state_label=STATE_LABELS.get(decision.state, decision.state),
        summary=decision.summary,
        showing=decision.showing,
        forecast=forecast_text(decision),
        uplift=uplift_text(decision.uplift),
        examination=examination_text(stats.examination),
        conditions=[condition_row(c) for c in decision.conditions],
    )
