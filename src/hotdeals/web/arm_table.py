"""The project page's table of deals and its headline: every figure formatted, once.

The dashboard's HTML and its live refresh both take their cells from here, so a figure reads
the same before and after a refresh; the colour of a row is its deal's colour in the charts.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotdeals.services.analytics import ProjectStats
from hotdeals.web.charts import styles
from hotdeals.web.rendering import fmt_int, fmt_interval, fmt_pct


@dataclass(frozen=True, slots=True)
class ArmRow:
    """One row of the arm table, every cell already formatted."""

    bandit_id: int
    name: str
    colour: str
    active: bool
    cells: dict[str, str]


ROW_FIELDS = (
    "impressions",
    "clicks",
    "ctr",
    "interval",
    "prob_best",
    "expected_loss",
    "share_24h",
    "state",
)


def arm_rows(stats: ProjectStats) -> list[ArmRow]:
    palette = styles([d.bandit_id for d in stats.bandits])
    return [
        ArmRow(
            bandit_id=d.bandit_id,
            name=d.bandit_name,
            colour=palette[d.bandit_id].colour,
            active=d.active,
            cells={
                "impressions": fmt_int(d.impressions),
                "clicks": fmt_int(d.clicks),
                "ctr": fmt_pct(d.ctr, 2),
                "interval": fmt_interval(d.ci_low, d.ci_high),
                "prob_best": fmt_pct(d.prob_best),
                "expected_loss": fmt_pct(d.expected_loss, 2),
                "share_24h": fmt_pct(d.share_last_24h),
                "state": "active" if d.active else "inactive",
            },
        )
        for d in stats.bandits
    ]


@dataclass(frozen=True, slots=True)
class Totals:
    impressions: str
    clicks: str
    ctr: str


def totals(stats: ProjectStats) -> Totals:
    shown = sum(d.impressions for d in stats.bandits)
    clicked = sum(d.clicks for d in stats.bandits)
    return Totals(fmt_int(shown), fmt_int(clicked), fmt_pct(clicked / shown if shown else None, 2))


def winner_text(stats: ProjectStats) -> str | None:
    if stats.winner is None:
        return None
    if stats.winner.chosen:
        return f"{stats.winner.bandit_name} was chosen as the winner when the campaign ended."
    return (
        f"{stats.winner.bandit_name} is the best deal with probability "
        f"{fmt_pct(stats.winner.prob_best)}. You can end the campaign with it as the winner."
    )
