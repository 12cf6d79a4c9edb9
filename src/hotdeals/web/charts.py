"""The project page's charts: one colour per deal, aligned time buckets, and Plotly figures.

The services give the numbers (:func:`hotdeals.services.analytics.project_stats` and
:func:`~hotdeals.services.series.time_series`); this module draws them as Plotly figures
(plain dicts the browser hands to ``Plotly.react``), the same for the HTML and the refresh.
Keeping the figures here, not in JavaScript, lets the unit tests check every series without a
browser and keeps the page's script a few lines of glue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
from scipy import stats as scipy_stats

from hotdeals.db.models import Bandit
from hotdeals.services.analytics import DealStats, ProjectStats
from hotdeals.services.series import SeriesPoint
from hotdeals.web.rendering import fmt_interval, fmt_pct

# Okabe & Ito's palette, safe for the common colour-vision deficiencies; yellow comes last
# because thin yellow lines are hard to see on white. Past eight deals the colours repeat with
# a dashed line, so two deals never look the same.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#000000", "#F0E442")
DASHES = ("solid", "dash", "dot", "dashdot")
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
DENSITY_POINTS = 201
MAX_HOURLY_BUCKETS = 72  # beyond three days of hours, "auto" switches to days

CHART_IDS = ("chart-ctr", "chart-posterior", "chart-allocation", "chart-clicks")
# Drawn only for a campaign that has a purchase or ranks by one (:func:`figures`).
REVENUE_CHART_ID = "chart-revenue"


@dataclass(frozen=True, slots=True)
class Style:
    """How one deal is drawn in every chart and marked in the table."""

    colour: str
    dash: str


def deal_style(index: int) -> Style:
    """The style of the ``index``-th deal of a project (by ``bandit_id``), stable over time."""
    return Style(PALETTE[index % len(PALETTE)], DASHES[(index // len(PALETTE)) % len(DASHES)])


def styles(bandit_ids: Sequence[int]) -> dict[int, Style]:
    return {bandit_id: deal_style(i) for i, bandit_id in enumerate(sorted(bandit_ids))}


# Time buckets ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Series:
    """Impressions, clicks, the share of impressions, purchases and their value (exact, in the
    campaign's currency) per deal, aligned on the same buckets."""

    bucket: str
    buckets: list[str]
    impressions: dict[int, list[int]]
    clicks: dict[int, list[int]]
    share: dict[int, list[float]]
    purchases: dict[int, list[int]]
    revenue: dict[int, list[Decimal]]


def bucket_label(moment: datetime) -> str:
    """Plotly reads ``YYYY-MM-DD HH:MM`` as a date; the axis says the zone (UTC)."""
    return moment.strftime("%Y-%m-%d %H:%M")


def align(points: Sequence[SeriesPoint], bandit_ids: Sequence[int], bucket: str) -> Series:
    """Fill the buckets where a deal got no impression with zeros; share = the deal's
    impressions over all impressions of the bucket (so the shares of a bucket sum to 1)."""
    starts = sorted({p.bucket_start for p in points})
    index = {start: i for i, start in enumerate(starts)}
    impressions = {b: [0] * len(starts) for b in bandit_ids}
    clicks = {b: [0] * len(starts) for b in bandit_ids}
    purchases = {b: [0] * len(starts) for b in bandit_ids}
    revenue = {b: [Decimal("0.00")] * len(starts) for b in bandit_ids}
    for p in points:
        if p.bandit_id in impressions:
            at = index[p.bucket_start]
            impressions[p.bandit_id][at] += p.impressions
            clicks[p.bandit_id][at] += p.clicks
            purchases[p.bandit_id][at] += p.purchases
            revenue[p.bandit_id][at] += p.purchase_value
    per_bucket = [sum(column) for column in zip(*impressions.values(), strict=True)] or []
    share = {
        b: [round(n / total, 6) if total else 0.0 for n, total in zip(row, per_bucket, strict=True)]
        for b, row in impressions.items()
    }
    labels = [bucket_label(s) for s in starts]
    return Series(bucket, labels, impressions, clicks, share, purchases, revenue)


# Figures ---------------------------------------------------------------------------------


def _layout(x_title: str, y_title: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "font": {"family": FONT, "size": 13, "color": "#1f2933"},
        "margin": {"l": 8, "r": 8, "t": 8, "b": 8},
        "height": 340,
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "xaxis": {"title": {"text": x_title}, "automargin": True, "gridcolor": "#e4e7eb"},
        "yaxis": {"title": {"text": y_title}, "automargin": True, "gridcolor": "#e4e7eb"},
        # Above the plot: below it, a legend collides with the axis title on a phone.
        "legend": {
            "orientation": "h",
            "x": 0,
            "y": 1.02,
            "yanchor": "bottom",
            "traceorder": "normal",
            "font": {"size": 12},
        },
        "hoverlabel": {"font": {"family": FONT}},
    }
    layout.update(extra)
    return layout


def _no_data(layout: dict[str, Any], text: str) -> dict[str, Any]:
    layout["annotations"] = [
        {
            "text": text,
            "xref": "paper",
            "yref": "paper",
            "x": 0.5,
            "y": 0.5,
            "showarrow": False,
            "font": {"size": 15, "color": "#52606d"},
        }
    ]
    return layout


def ctr_figure(deals: Sequence[DealStats], palette: dict[int, Style]) -> dict[str, Any]:
    """Posterior mean CTR per deal with its 95% credible interval as error bars."""
    data = [
        {
            "type": "scatter",
            "mode": "markers",
            "name": d.bandit_name,
            "x": [round(d.posterior_mean, 6)],
            "y": [d.bandit_name],
            "error_x": {
                "type": "data",
                "symmetric": False,
                "array": [round(d.ci_high - d.posterior_mean, 6)],
                "arrayminus": [round(d.posterior_mean - d.ci_low, 6)],
                "color": palette[d.bandit_id].colour,
                "thickness": 2.5,
                "width": 6,
            },
            "marker": {
                "color": palette[d.bandit_id].colour,
                "size": 11,
                "symbol": "circle" if d.active else "circle-open",
            },
            "customdata": [[fmt_pct(d.ctr, 2), fmt_interval(d.ci_low, d.ci_high), d.impressions]],
            "hovertemplate": "%{y}<br>posterior mean %{x:.2%}<br>95% interval %{customdata[1]}"
            "<br>observed CTR %{customdata[0]} over %{customdata[2]} impressions<extra></extra>",
        }
        for d in deals
    ]
    layout = _layout("CTR", "", showlegend=False, height=max(260, 90 + 42 * len(deals)))
    layout["xaxis"].update({"tickformat": ".0%", "rangemode": "tozero"})
    layout["yaxis"].update({"autorange": "reversed", "type": "category"})
    return {"data": data, "layout": layout}


def posterior_figure(bandits: Sequence[Bandit], palette: dict[int, Style]) -> dict[str, Any]:
    """Each deal's Beta(alpha, beta) density on a common grid around where the mass lies."""
    if not bandits:
        return {"data": [], "layout": _no_data(_layout("CTR", "Density"), "No deals yet")}
    alpha = np.array([b.alpha for b in bandits], dtype=np.float64)
    beta = np.array([b.beta for b in bandits], dtype=np.float64)
    low = scipy_stats.beta.ppf(0.0005, alpha, beta)
    high = scipy_stats.beta.ppf(0.9995, alpha, beta)
    span = float(np.max(high) - np.min(low))
    start = max(0.0, float(np.min(low)) - 0.05 * span)
    stop = min(1.0, float(np.max(high)) + 0.05 * span)
    grid = np.linspace(start, stop, DENSITY_POINTS)
    data = []
    for bandit, a, b in zip(bandits, alpha, beta, strict=True):
        density = scipy_stats.beta.pdf(grid, a, b)
        style = palette[bandit.bandit_id]
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": bandit.bandit_name,
                "x": [round(float(v), 6) for v in grid],
                "y": [round(float(v), 4) for v in np.nan_to_num(density, posinf=0.0)],
                "line": {
                    "color": style.colour,
                    "width": 2.5,
                    "dash": style.dash if bandit.active else "dot",
                },
                "hovertemplate": f"{_escape_hover(bandit.bandit_name)}<br>CTR %{{x:.2%}}"
                "<br>density %{y:.1f}<extra></extra>",
            }
        )
    layout = _layout("CTR", "Posterior density")
    layout["xaxis"]["tickformat"] = ".0%"
    return {"data": data, "layout": layout}


def allocation_figure(
    series: Series, names: dict[int, str], palette: dict[int, Style]
) -> dict[str, Any]:
    """Stacked bars: which share of each bucket's impressions went to which deal."""
    data = [
        {
            "type": "bar",
            "name": names[bandit_id],
            "x": series.buckets,
            "y": shares,
            "marker": {"color": palette[bandit_id].colour},
            "hovertemplate": f"{_escape_hover(names[bandit_id])}<br>%{{x}}<br>"
            "%{y:.1%} of impressions<extra></extra>",
        }
        for bandit_id, shares in series.share.items()
    ]
    layout = _layout(
        f"{series.bucket.capitalize()} (UTC)", "Share of impressions", barmode="stack", bargap=0.06
    )
    layout["yaxis"].update({"tickformat": ".0%", "range": [0, 1]})
    layout["xaxis"]["type"] = "date"
    if not series.buckets:
        _no_data(layout, "No impressions yet")
    return {"data": data, "layout": layout}


def clicks_figure(
    series: Series, names: dict[int, str], palette: dict[int, Style]
) -> dict[str, Any]:
    """Stacked bars: clicks per bucket, split by deal (the height is the bucket's total)."""
    data = [
        {
            "type": "bar",
            "name": names[bandit_id],
            "x": series.buckets,
            "y": clicks,
            "marker": {"color": palette[bandit_id].colour},
            "hovertemplate": f"{_escape_hover(names[bandit_id])}<br>%{{x}}<br>"
            "%{y} clicks<extra></extra>",
        }
        for bandit_id, clicks in series.clicks.items()
    ]
    layout = _layout(f"{series.bucket.capitalize()} (UTC)", "Clicks", barmode="stack", bargap=0.06)
    layout["yaxis"]["rangemode"] = "tozero"
    layout["xaxis"]["type"] = "date"
    if not series.buckets:
        _no_data(layout, "No clicks yet")
    return {"data": data, "layout": layout}


def money(amount: Decimal) -> float:
    """An exact amount as the number Plotly plots (cents survive: at most 14 digits)."""
    return float(amount)


def revenue_figure(
    series: Series, names: dict[int, str], palette: dict[int, Style], currency: str
) -> dict[str, Any]:
    """Stacked bars: the value of the purchases per bucket, split by deal, each purchase in the
    bucket of the impression it followed (the hour the deal was shown, not the checkout's)."""
    data = [
        {
            "type": "bar",
            "name": names[bandit_id],
            "x": series.buckets,
            "y": [money(amount) for amount in amounts],
            "customdata": series.purchases[bandit_id],
            "marker": {"color": palette[bandit_id].colour},
            "hovertemplate": f"{_escape_hover(names[bandit_id])}<br>%{{x}}<br>"
            f"%{{y:,.2f}} {currency} from %{{customdata}} purchases<extra></extra>",
        }
        for bandit_id, amounts in series.revenue.items()
    ]
    layout = _layout(
        f"{series.bucket.capitalize()} shown (UTC)",
        f"Revenue ({currency})",
        barmode="stack",
        bargap=0.06,
    )
    layout["yaxis"].update({"rangemode": "tozero", "tickformat": ",.2f"})
    layout["xaxis"]["type"] = "date"
    if not any(amount for amounts in series.revenue.values() for amount in amounts):
        _no_data(layout, "No purchases yet")
    return {"data": data, "layout": layout}


def _escape_hover(text: str) -> str:
    """Plotly renders a small HTML subset in hover labels; a deal name is text, not markup,
    and ``%{...}`` in a name must not be read as a template."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("%{", "%&#123;")
    )


def figures(
    stats: ProjectStats,
    bandits: Sequence[Bandit],
    series: Series,
    revenue_in: str | None = None,
) -> dict[str, dict[str, Any]]:
    """The charts of the project page, keyed by the id of their element: the four of
    :data:`CHART_IDS`, and revenue over time in the currency ``revenue_in`` when given."""
    ordered = sorted(bandits, key=lambda b: b.bandit_id)
    palette = styles([b.bandit_id for b in ordered])
    names = {b.bandit_id: b.bandit_name for b in ordered}
    drawn = {
        "chart-ctr": ctr_figure(stats.bandits, palette),
        "chart-posterior": posterior_figure(ordered, palette),
        "chart-allocation": allocation_figure(series, names, palette),
        "chart-clicks": clicks_figure(series, names, palette),
    }
    if revenue_in is not None:
        drawn[REVENUE_CHART_ID] = revenue_figure(series, names, palette, revenue_in)
    return drawn
