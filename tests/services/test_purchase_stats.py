"""Each deal's purchase figures from its counters: the closed-form conversion, revenue medians
that follow the data, the same figures on a refresh, and no failure on counters db-check would
flag."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pytest

from hotdeals.services.purchase_stats import purchase_figures, value_prior


def _deal(n: int, clicks: int, values: list[float], **overrides: Any) -> Any:
    logs = [math.log(v) for v in values]
    row = {
        "n": n,
        "number_of_success": clicks,
        "alpha": 1.0 + clicks,
        "beta": 1.0 + n - clicks,
        "prior_alpha": 1.0,
        "prior_beta": 1.0,
        "purchases": len(values),
        "log_value_sum": sum(logs),
        "log_value_square_sum": sum(x * x for x in logs),
    }
    return SimpleNamespace(**{**row, **overrides})


def test_conversion_is_the_beta_mean_and_revenue_follows_the_values() -> None:
    cheap = _deal(1_000, 100, [2.0] * 20)
    dear = _deal(1_000, 100, [8.0] * 20)
    figures = purchase_figures([cheap, dear], seed=[1])
    assert figures[0].conversion == pytest.approx(21 / 1_002)
    assert figures[0].ci_low_conversion < 0.02 < figures[0].ci_high_conversion
    # 2% of impressions buy, at 2 or at 8: revenue per impression near 0.04 and 0.16.
    assert figures[0].revenue_per_impression == pytest.approx(0.04, rel=0.25)
    assert figures[1].revenue_per_impression == pytest.approx(0.16, rel=0.25)
    assert figures[0].ci_high_revenue_per_impression < figures[1].ci_low_revenue_per_impression
    # A click is bought 20% of the time here: revenue per click near 0.4 and 1.6.
    assert figures[1].revenue_per_click == pytest.approx(1.6, rel=0.3)
    assert purchase_figures([cheap, dear], seed=[1]) == figures


def test_the_value_prior_centres_on_the_campaigns_typical_purchase() -> None:
    prior = value_prior([_deal(10, 2, [2.0, 8.0]), _deal(10, 1, [4.0])])
    assert math.exp(prior.m0) == pytest.approx(4.0)
    assert value_prior([_deal(10, 0, [])]).m0 == 0.0


def test_counters_db_check_would_flag_still_give_figures() -> None:
    broken = [
        _deal(50, 5, [], log_value_sum=3.0, log_value_square_sum=1.0),
        _deal(50, 5, [3.0, 3.0], log_value_square_sum=0.0),
    ]
    figures = purchase_figures(broken, seed=[2])
    assert all(math.isfinite(f.revenue_per_impression) for f in figures)
