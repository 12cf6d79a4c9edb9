"""Response bodies of the analyst's figures: per-deal statistics, the decision panel, series."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PurchaseFiguresOut(BaseModel):
    """Per deal: the posterior of purchases per impression (mean, interval) and of revenue per
    impression and per click (median, interval: their posterior mean is infinite under the
    log-normal value model, docs/simulation.md), in the campaign's currency."""

    conversion: float = Field(description="posterior mean of purchases per impression")
    ci_low_conversion: float
    ci_high_conversion: float
    revenue_per_impression: float = Field(description="posterior median")
    ci_low_revenue_per_impression: float
    ci_high_revenue_per_impression: float
    revenue_per_click: float = Field(description="posterior median")
    ci_low_revenue_per_click: float
    ci_high_revenue_per_click: float


class DealStatsOut(BaseModel):
    bandit_id: int
    bandit_name: str
    active: bool
    impressions: int
    clicks: int
    ctr: float
    posterior_mean: float
    ci_low: float = Field(description="95% equal-tailed credible interval, lower end")
    ci_high: float
    prob_best: float | None = Field(description="among active deals; null when deactivated")
    expected_loss: float | None
    share_last_24h: float
    ctr_corrected: float | None = Field(
        description="position-corrected CTR (posterior mean counting each impression as its "
        "slot's examination probability: the CTR in slot 1); null with one slot or no data"
    )
    ci_low_corrected: float | None = Field(description="95% interval of ctr_corrected")
    ci_high_corrected: float | None
    recent_impressions: float | None = Field(
        default=None,
        description="with a half-life: impressions weighted 0.5 per half-life of age (what rank "
        "samples from); null when the campaign does not forget",
    )
    recent_clicks: float | None = None
    recent_ctr: float | None = Field(
        default=None, description="posterior mean of the discounted posterior (rank's view)"
    )
    ci_low_recent: float | None = Field(default=None, description="95% interval of recent_ctr")
    ci_high_recent: float | None = None
    purchases: int = Field(description="purchases reported on the deal's impressions")
    purchase_value: float = Field(description="their total value, in the campaign's currency")
    purchase: PurchaseFiguresOut = Field(
        description="conversion and revenue per impression and per click with 95% intervals"
    )


class WinnerOut(BaseModel):
    bandit_id: int
    bandit_name: str
    prob_best: float
    chosen: bool = Field(
        description="true when the analyst named this winner on ending the campaign; "
        "false when the winner rule found it"
    )


class ConditionOut(BaseModel):
    name: Literal["prob_best", "relative_loss", "leader_impressions", "duration_days"]
    value: float
    threshold: float
    met: bool
    text: str = Field(examples=["P(best) 0.83 of 0.95"])


class ForecastOut(BaseModel):
    impressions_median: float | None = Field(
        description="further impressions until the winner rule fires (median of the simulated "
        "paths; null when fewer than half decide within the horizon)"
    )
    impressions_p90: float | None
    days_median: float | None = Field(
        description="the same at the last 24 hours' traffic (and the minimum duration, if set); "
        "null without traffic"
    )
    days_p90: float | None
    decided_share: float = Field(description="share of simulated paths decided in the horizon")
    horizon: int = Field(description="impressions simulated per path")
    paths: int
    computed_at: datetime = Field(description="forecasts are cached for 5 minutes")


class UpliftOut(BaseModel):
    clicks: int
    even_expected: float = Field(
        description="expected clicks had every deal been shown equally in every slot"
    )
    gained: float = Field(description="clicks - even_expected")
    low: float = Field(description="95% posterior-predictive interval of gained")
    high: float


class DecisionOut(BaseModel):
    state: Literal["collecting", "winner", "no_meaningful_difference", "rollout", "ended"]
    summary: str = Field(
        examples=[
            "No decision yet; leader 'Tomatoes -30%'. Missing: P(best) 0.83 of 0.95 "
            "(or expected loss 1.20% of the leader's CTR, needs under 0.25%)."
        ]
    )
    showing: str = Field(description="what rank answers now, in words")
    leader_bandit_id: int | None
    leader_name: str | None
    conditions: list[ConditionOut]
    missing: list[str] = Field(description="the conditions still unmet, in words")
    forecast: ForecastOut | None = Field(description="while collecting evidence only")
    uplift: UpliftOut | None


class StatsOut(BaseModel):
    project_id: int
    bandits: list[DealStatsOut]
    winner: WinnerOut | None
    decision: DecisionOut | None
    examination: list[float] = Field(
        description="fitted examination probability of each slot (slot 1 = 1; empty with one "
        "slot or no data): docs/positions.md"
    )


class SeriesPointOut(BaseModel):
    """One deal in one UTC bucket; a deal without an impression in a bucket has no point."""

    bucket_start: datetime = Field(description="the bucket's first instant, UTC")
    bandit_id: int
    impressions: int = Field(description="impressions logged in the bucket")
    clicks: int = Field(description="clicks on those impressions (whenever they came)")
    purchases: int = Field(
        description="purchases reported on those impressions, whenever they came: bucketed by "
        "the hour the deal was shown, not by the checkout's"
    )
    purchase_value: Decimal = Field(
        description="their total value, a decimal string in the campaign's currency (revenue "
        "attributed to the bucket in which the deal was shown)",
        examples=["12.47"],
    )


class TimeSeriesOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "project_id": 3,
                    "bucket": "hour",
                    "points": [
                        {
                            "bucket_start": "2026-12-07T09:00:00Z",
                            "bandit_id": 7,
                            "impressions": 412,
                            "clicks": 23,
                            "purchases": 5,
                            "purchase_value": "17.45",
                        },
                        {
                            "bucket_start": "2026-12-07T09:00:00Z",
                            "bandit_id": 8,
                            "impressions": 398,
                            "clicks": 9,
                            "purchases": 0,
                            "purchase_value": "0.00",
                        },
                    ],
                }
            ]
        }
    )

    project_id: int
    bucket: Literal["hour", "day"]
    points: list[SeriesPointOut] = Field(description="oldest bucket first, then by bandit_id")
