"""The project page's table of deals and its headline: every figure formatted, once.

The dashboard's HTML and its live refresh both take their cells from here, so a figure reads
the same before and after a refresh; the colour of a row is its deal's colour in the charts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hotdeals.services.analytics import DealStats, ProjectStats
from hotdeals.web.charts import styles
from hotdeals.web.rendering import DASH, fmt_int, fmt_interval, fmt_pct


@dataclass(frozen=True, slots=True)
class ArmRow:
    """One row of the arm table, every cell already formatted."""

    bandit_id: int
    name: str
    colour: str
    active: bool
    cells: dict[str, str]


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the table: its cell's field, its heading, and what the heading means."""

    field: str
    heading: str
    title: str = ""
    corrected: bool = False
    recent: bool = False
    purchased: bool = False
    numeric: bool = True


COLUMNS = (
    Column("impressions", "Impressions"),
    Column("clicks", "Clicks"),
    Column("ctr", "CTR"),
    Column("interval", "95% interval", "95% credible interval of the click-through rate"),
    Column(
        "ctr_corrected",
        "CTR in slot 1",
        "Position-corrected CTR: each impression counts as its slot's examination "
        "probability, so this is the deal's click-through rate had it always been in slot 1",
        corrected=True,
    ),
    Column(
        "interval_corrected",
        "95% (slot 1)",
        "95% credible interval of the position-corrected click-through rate",
        corrected=True,
    ),
    Column(
        "recent_impressions",
        "Recent impressions",
        "Impressions weighted by their age: each counts half after one half-life, a quarter "
        "after two",
        recent=True,
    ),
    Column(
        "ctr_recent",
        "Recent CTR",
        "Posterior mean of the recent click-through rate (impressions and clicks weighted by "
        "their age, toward the deal's prior as they age): what rank samples from",
        recent=True,
    ),
    Column(
        "interval_recent",
        "95% (recent)",
        "95% credible interval of the recent click-through rate",
        recent=True,
    ),
    Column("purchases", "Purchases", "Purchases reported on its impressions", purchased=True),
    Column(
        "conversion",
        "Conversion",
        "Posterior mean of purchases per impression",
        purchased=True,
    ),
    Column(
        "revenue_per_impression",
        "Revenue / impression",
        "Posterior median of the revenue per impression, in the campaign's currency (its mean "
        "is infinite under the log-normal value model)",
        purchased=True,
    ),
    Column("prob_best", "P(best)", "Probability to be the best deal"),
    Column(
        "expected_loss",
        "Expected loss",
        "Click-through rate given up if this deal is declared the winner and it is not the best",
    ),
    Column("share_24h", "Last 24 h share"),
    Column(
        "state",
        "State",
        "active; inactive (switched off); scheduled or expired (outside its window)",
        numeric=False,
    ),
)
ROW_FIELDS = tuple(column.field for column in COLUMNS)


def columns(corrected: bool, recent: bool = False, purchased: bool = False) -> list[Column]:
    """The table's columns: the position-corrected pair only when ``corrected``, the recent
    (discounted) three only when ``recent`` (a campaign with a half-life), the purchase three
    only when ``purchased`` (a deal of the campaign has a purchase)."""
    return [
        c
        for c in COLUMNS
        if (corrected or not c.corrected)
        and (recent or not c.recent)
        and (purchased or not c.purchased)
    ]


def shows_purchases(stats: ProjectStats) -> bool:
    return any(d.purchases for d in stats.bandits)


def _money(value: float | None) -> str:
    return DASH if value is None else f"{value:,.4f}"


def shows_corrected(stats: ProjectStats, slots: int) -> bool:
    """Whether the table carries the corrected columns: a campaign of several slots (whose
    figures get a correction once slot 2 has traffic), or any corrected figure at all."""
    return slots > 1 or any(d.ctr_corrected is not None for d in stats.bandits)


def _corrected_interval(deal: DealStats) -> str:
    if deal.ci_low_corrected is None or deal.ci_high_corrected is None:
        return DASH
    return fmt_interval(deal.ci_low_corrected, deal.ci_high_corrected)


def _recent_interval(deal: DealStats) -> str:
    if deal.ci_low_recent is None or deal.ci_high_recent is None:
        return DASH
    return fmt_interval(deal.ci_low_recent, deal.ci_high_recent)


def fmt_weight(value: float | None) -> str:
    """An impression count weighted by age, to a tenth: ``1,234.5`` (a dash for none)."""
    return DASH if value is None else f"{value:,.1f}"


def arm_rows(stats: ProjectStats, states: Mapping[int, str] | None = None) -> list[ArmRow]:
    """One row per deal; ``states`` words each deal's state (its window), else active or not."""
    palette = styles([d.bandit_id for d in stats.bandits])
    states = states or {}
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
                "ctr_corrected": fmt_pct(d.ctr_corrected, 2),
                "interval_corrected": _corrected_interval(d),
                "recent_impressions": fmt_weight(d.recent_impressions),
                "ctr_recent": fmt_pct(d.recent_ctr, 2),
                "interval_recent": _recent_interval(d),
                "purchases": fmt_int(d.purchases),
                "conversion": fmt_pct(d.purchase.conversion if d.purchase else None, 2),
                "revenue_per_impression": _money(
                    d.purchase.revenue_per_impression if d.purchase else None
                ),
                "prob_best": fmt_pct(d.prob_best),
                "expected_loss": fmt_pct(d.expected_loss, 2),
                "share_24h": fmt_pct(d.share_last_24h),
                "state": states.get(d.bandit_id, "active" if d.active else "inactive"),
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
