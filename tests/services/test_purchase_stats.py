"""Each deal's purchase figures from its counters: the closed-form conversion, revenue medians
that follow the data, the same figures on a refresh, and no failure on counters db-check would
flag."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pytest

from hotdeals.bandit.revenue import draw_value_parameters
from hotdeals.services import purchase_stats
from hotdeals.services.purchase_stats import (
    PurchaseFigureCache,
    draws_per_deal,
    purchase_figures,
    value_prior,
)


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
    figures = purchase_figures([cheap, dear])
    assert figures[0].conversion == pytest.approx(21 / 1_002)
    assert figures[0].ci_low_conversion < 0.02 < figures[0].ci_high_conversion
    # 2% of impressions buy, at 2 or at 8: revenue per impression near 0.04 and 0.16.
    assert figures[0].revenue_per_impression == pytest.approx(0.04, rel=0.25)
    assert figures[1].revenue_per_impression == pytest.approx(0.16, rel=0.25)
    assert figures[0].ci_high_revenue_per_impression < figures[1].ci_low_revenue_per_impression
    # A click is bought 20% of the time here: revenue per click near 0.4 and 1.6.
    assert figures[1].revenue_per_click == pytest.approx(1.6, rel=0.3)
    assert purchase_figures([cheap, dear]) == figures


def test_the_value_prior_centres_on_the_campaigns_typical_purchase() -> None:
    prior = value_prior([_deal(10, 2, [2.0, 8.0]), _deal(10, 1, [4.0])])
    assert math.exp(prior.m0) == pytest.approx(4.0)
    assert value_prior([_deal(10, 0, [])]).m0 == 0.0


def test_counters_db_check_would_flag_still_give_figures() -> None:
    broken = [
        _deal(50, 5, [], log_value_sum=3.0, log_value_square_sum=1.0),
        _deal(50, 5, [3.0, 3.0], log_value_square_sum=0.0),
    ]
    figures = purchase_figures(broken)
    assert all(math.isfinite(f.revenue_per_impression) for f in figures)


def test_deals_with_the_same_counters_get_the_same_figures() -> None:
    fresh = [_deal(0, 0, []) for _ in range(5)]
    seen = _deal(1_000, 100, [2.0] * 20)
    figures = purchase_figures([fresh[0], seen, *fresh[1:]])
    assert figures[0] == figures[2] == figures[5]
    assert figures[1] != figures[0]


def test_many_deals_share_a_budget_of_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    shapes: list[tuple[int, ...]] = []

    def spy(*args: Any) -> Any:
        shapes.append(args[2])
        return draw_value_parameters(*args)

    monkeypatch.setattr(purchase_stats, "draw_value_parameters", spy)
    deals = [_deal(1_000 + i, 100, [2.0 + i / 100] * 20) for i in range(1_000)]
    purchase_figures(deals)
    assert set(shapes) == {(244,)}
    assert len(shapes) == 1_000
    shapes.clear()
    purchase_figures(deals[:10])
    assert shapes == [(4_000,)] * 10  # 4,000 at most
    assert [draws_per_deal(d) for d in (1, 32, 33, 64, 65, 1_000, 10_000)] == [
        4_000,
        4_000,
        3_906,
        3_906,
        1_953,
        244,
        100,
    ]


def test_a_deals_figures_do_not_depend_on_the_others() -> None:
    deal = _deal(2_000, 200, [4.0] * 40)
    other = _deal(1_000, 100, [4.0] * 20)  # the same typical value: the same value prior
    alone = purchase_figures([deal, other])[0]
    assert purchase_figures([other, deal, _deal(500, 10, [4.0])])[1] == alone


def test_the_cache_draws_only_for_deals_whose_counters_moved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawn: list[int] = []
    real = purchase_stats._draw_figures

    def spy(rows: Any, *args: Any) -> Any:
        drawn.append(len(rows))
        return real(rows, *args)

    monkeypatch.setattr(purchase_stats, "_draw_figures", spy)
    cache = PurchaseFigureCache()
    deals = [_deal(1_000 + i, 100, []) for i in range(50)]
    first = purchase_figures(deals, cache)
    moved = [*deals[:49], _deal(1_001, 100, [])]  # the last deal now has a twin's counters
    again = purchase_figures(moved, cache)
    moved[7] = _deal(5_000, 100, [])
    third = purchase_figures(moved, cache)
    assert drawn == [50, 1]  # all, none (a twin's figures were kept), the one moved
    assert again[:49] == first[:49]
    assert again[49] == first[1]
    assert third == purchase_figures(moved)  # what a cold computation gives
    assert third[7] != first[7]


def test_the_cache_stays_bounded() -> None:
    cache = PurchaseFigureCache(max_entries=30)
    for start in range(0, 100, 20):
        purchase_figures([_deal(1_000 + start + i, 10, []) for i in range(20)], cache)
        assert len(cache._figures) <= 30


def test_fewer_draws_give_the_same_figures_within_their_monte_carlo_error() -> None:
    # A deal's revenue figures from 244 draws (among 1,000 deals) against 4,000 (alone):
    # on the log scale the median's Monte Carlo sd is ~1.25 sigma / sqrt(draws), where sigma,
    # the posterior sd of the log revenue, is the 95% interval's width / 3.92.
    deal = _deal(2_000, 200, [3.0, 5.0, 4.0, 6.0] * 10)
    others = [_deal(1_000 + i, 100, [2.0] * 20) for i in range(999)]
    alone = purchase_figures([deal])[0]
    among = purchase_figures([deal, *others])[0]
    width = math.log(alone.ci_high_revenue_per_impression / alone.ci_low_revenue_per_impression)
    sd = 1.25 * width / 3.92 * math.sqrt(1 / 244 + 1 / 4_000)
    shift = math.log(among.revenue_per_impression / alone.revenue_per_impression)
    assert abs(shift) < 5 * sd
    assert among.conversion == alone.conversion  # closed form: no draws
