"""Each deal's purchase figures from its counters: the closed-form conversion, revenue medians
that follow the data, the same figures on a refresh, and no failure on counters db-check would
flag."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from hotdeals.bandit.revenue import sample_value_parameters
from hotdeals.services import purchase_stats
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


def test_deals_with_the_same_counters_get_the_same_figures() -> None:
    fresh = [_deal(0, 0, []) for _ in range(5)]
    seen = _deal(1_000, 100, [2.0] * 20)
    figures = purchase_figures([fresh[0], seen, *fresh[1:]], seed=[4])
    assert figures[0] == figures[2] == figures[5]
    assert figures[1] != figures[0]


def test_many_deals_share_a_budget_of_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    shapes: list[tuple[int, ...]] = []

    def spy(*args: Any) -> Any:
        shapes.append(np.shape(args[1]))
        return sample_value_parameters(*args)

    monkeypatch.setattr(purchase_stats, "sample_value_parameters", spy)
    deals = [_deal(1_000 + i, 100, [2.0 + i / 100] * 20) for i in range(1_000)]
    purchase_figures(deals, seed=[5])
    purchase_figures(deals[:10], seed=[5])
    assert shapes == [(250, 1_000), (4_000, 10)]  # 250,000 draws x deals, 4,000 at most


def test_fewer_draws_give_the_same_figures_within_their_monte_carlo_error() -> None:
    # A deal's revenue figures from 250 draws (among 1,000 distinct deals) against 4,000 (alone):
    # on the log scale the median's Monte Carlo sd is ~1.25 sigma / sqrt(draws), where sigma,
    # the posterior sd of the log revenue, is the 95% interval's width / 3.92.
    deal = _deal(2_000, 200, [3.0, 5.0, 4.0, 6.0] * 10)
    others = [_deal(1_000 + i, 100, [2.0] * 20) for i in range(999)]
    alone = purchase_figures([deal], seed=[6])[0]
    among = purchase_figures([deal, *others], seed=[6])[0]
    width = math.log(alone.ci_high_revenue_per_impression / alone.ci_low_revenue_per_impression)
    sd = 1.25 * width / 3.92 * math.sqrt(1 / 250 + 1 / 4_000)
    shift = math.log(among.revenue_per_impression / alone.revenue_per_impression)
    assert abs(shift) < 5 * sd
    assert among.conversion == alone.conversion  # closed form: no draws
