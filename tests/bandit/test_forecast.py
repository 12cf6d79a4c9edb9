"""The decision forecast: its block schedule, its sampler's accuracy, its edges and errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats as scipy_stats

from hotdeals.bandit import (
    Forecast,
    InvalidArmsError,
    InvalidParameterError,
    WinnerRule,
    forecast_decision,
)
from hotdeals.bandit import forecast as forecast_module


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_a_decided_campaign_forecasts_zero() -> None:
    # 8% against 2% after 2,000 impressions each: P(best) is 1 to many decimals.
    forecast = forecast_decision([161, 41], [1841, 1961], [2000, 2000], WinnerRule(), _rng())
    assert forecast == Forecast(median=0.0, p90=0.0, decided_share=1.0, horizon=100_000, paths=32)


def test_the_default_horizon_is_ten_times_the_traffic_so_far_or_100000() -> None:
    rule = WinnerRule(min_impressions=10**9)  # never fires: every path runs the full horizon
    small = forecast_decision([2, 2], [50, 50], [50, 50], rule, _rng(), paths=2, draws=50)
    assert small.horizon == 100_000
    big = forecast_decision([50, 60], [9950, 9940], [10_000, 10_000], rule, _rng(), paths=2)
    assert big.horizon == 200_000
    assert big.decided_share == 0.0
    assert big.median is None
    assert big.p90 is None


def test_blocks_grow_by_a_fifth_of_the_impressions_so_far_from_100() -> None:
    # One deal is always best, so only the floor of 1,000 impressions waits. Blocks of 100 up
    # to 500 impressions, then 20% of the total: 600, 720, 864, 1037 (ceil of 172.8): every
    # path decides at the end of the block that crosses 1,000.
    forecast = forecast_decision([1], [1], [0], WinnerRule(min_impressions=1000), _rng())
    assert forecast == Forecast(
        median=1037.0, p90=1037.0, decided_share=1.0, horizon=100_000, paths=32
    )
    # From 10,000 impressions the first block is already 2,000: 10,000 -> 12,000 crosses 11,000.
    later = forecast_decision([1], [1], [10_000], WinnerRule(min_impressions=11_000), _rng())
    assert later.median == 2000.0


def test_the_last_block_stops_at_the_horizon() -> None:
    rule = WinnerRule(min_impressions=550)
    assert forecast_decision([1], [1], [0], rule, _rng(), horizon=550).median == 550.0
    short = forecast_decision([1], [1], [0], rule, _rng(), horizon=549)
    assert short.decided_share == 0.0
    assert short.horizon == 549


def test_a_clear_leader_forecasts_sooner_than_a_near_tie() -> None:
    # Same traffic (1,000 impressions each), 3.5% vs 4.5% (P(best) ~ 0.87) against 4.0% vs
    # 4.1%: the near tie needs far more impressions. Seeded, 64 paths each.
    clear = forecast_decision([36, 46], [966, 956], [1000, 1000], WinnerRule(), _rng(1), paths=64)
    tie = forecast_decision([41, 42], [961, 960], [1000, 1000], WinnerRule(), _rng(1), paths=64)
    assert clear.median is not None
    assert tie.median is not None
    assert 0 < clear.median < tie.median / 2
    assert clear.decided_share >= tie.decided_share


def test_the_forecast_is_reproducible_from_its_generator() -> None:
    def run(seed: int) -> Forecast:
        alpha, beta = [3, 5, 9], [200, 210, 190]
        return forecast_decision(alpha, beta, beta, WinnerRule(), _rng(seed), k=2)

    assert run(7) == run(7)
    assert run(7).median != 0.0  # not a campaign decided already: the paths were simulated


@pytest.mark.parametrize(
    ("alpha", "beta"),
    [(3, 97), (10, 90), (50, 950), (500, 9500), (1, 5), (0.5, 0.5), (2.9, 40), (1, 1)],
)
def test_posterior_draws_follow_the_beta_distribution(alpha: float, beta: float) -> None:
    draws = 200_000
    sample = forecast_module._PosteriorDraws(_rng(11), draws, rows=1, arms=1)
    theta = sample(np.array([[float(alpha)]]), np.array([[float(beta)]]))
    assert theta.shape == (draws, 1, 1)
    statistic = scipy_stats.kstest(theta[:, 0, 0], scipy_stats.beta(alpha, beta).cdf).statistic
    # The Kolmogorov distance is at most the total-variation distance of the approximation
    # (measured by quadrature: < 0.02 / shape per Wilson-Hilferty gamma, 0 for shapes below 3,
    # drawn exactly) plus the sampling error: 1.95 / sqrt(n) is the KS test's 0.1% level.
    approximation = sum(0.02 / shape for shape in (alpha, beta) if shape >= 3)
    assert statistic < approximation + 1.95 / np.sqrt(draws)


class _ExactDraws:
    """Fresh exact Beta draws at every block: the slow reference for the forecast's sampler."""

    def __init__(self, rng: np.random.Generator, draws: int, rows: int, arms: int) -> None:
        del rows, arms
        self._rng, self._draws = rng, draws

    def keep(self, rows: Any) -> None:
        del rows

    def __call__(self, a: Any, b: Any) -> Any:
        return self._rng.beta(a, b, size=(self._draws, *a.shape))


def test_the_approximate_sampler_forecasts_like_exact_draws(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 3 deals after 100 impressions each, 400 paths over 20,000 impressions, once with the
    # module's sampler and once with fresh exact draws. The decided shares are ~0.96: their
    # difference has an sd of sqrt(2 x 0.04 x 0.96 / 400) = 0.014, so 0.06 is 4 sd. Medians
    # are block ends (100, 200, 300, 420, 564, ...): they may differ by a block.

    def run() -> Forecast:
        alpha, beta, pulls = [3.0, 5.0, 9.0], [98.0, 96.0, 92.0], [100, 100, 100]
        return forecast_decision(
            alpha, beta, pulls, WinnerRule(), _rng(3), paths=400, horizon=20_000
        )

    approximate = run()
    monkeypatch.setattr(forecast_module, "_PosteriorDraws", _ExactDraws)
    exact = run()
    assert abs(approximate.decided_share - exact.decided_share) < 0.06
    assert approximate.median is not None
    assert exact.median is not None
    assert 1 / 1.45 <= approximate.median / exact.median <= 1.45


def test_many_deals_get_fewer_draws_so_memory_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[tuple[int, int, int]] = []
    original = forecast_module._PosteriorDraws

    def spy(rng: np.random.Generator, draws: int, rows: int, arms: int) -> Any:
        made.append((draws, rows, arms))
        return original(rng, draws, rows, arms)

    monkeypatch.setattr(forecast_module, "_PosteriorDraws", spy)
    many = 100
    alpha, beta = np.full(many, 2.0), np.full(many, 99.0)
    forecast_decision(alpha, beta, np.full(many, 100), WinnerRule(), _rng(), horizon=200)
    # 2,000,000 // (32 paths x 100 deals) = 625 draws instead of 1,000, for every sampler.
    assert made == [(625, 1, many), (625, 32, many)]


def test_allocation_is_the_chance_of_a_top_k_draw() -> None:
    # Four draws of three arms: the top two are (2, 1), (0, 1), (1, 2), (1, 0).
    theta = np.array(
        [[[0.1, 0.2, 0.3]], [[0.3, 0.2, 0.1]], [[0.0, 0.5, 0.4]], [[0.5, 0.6, 0.1]]],
        dtype=np.float64,
    )
    a = b = np.ones((1, 3))
    seen = np.zeros((1, 3))
    fired, top_two = forecast_module._check(WinnerRule(), theta, a, b, seen, slots=2)
    np.testing.assert_allclose(top_two, [[2 / 8, 4 / 8, 2 / 8]])
    assert not fired[0]  # P(best) of the leader is 0.5
    _, top_one = forecast_module._check(WinnerRule(), theta, a, b, seen, slots=1)
    np.testing.assert_allclose(top_one, [[1 / 4, 2 / 4, 1 / 4]])


def test_k_covers_every_arm_and_still_forecasts() -> None:
    forecast = forecast_decision([5, 9], [100, 96], [104, 104], WinnerRule(), _rng(), k=5)
    assert forecast.decided_share > 0.5
    assert forecast.median is not None


@pytest.mark.parametrize(
    ("alpha", "beta", "pulls", "message"),
    [
        ([1, 2], [1], [0, 0], "one length"),
        ([], [], [], "at least one arm"),
        ([0, 1], [1, 1], [0, 0], "finite and > 0"),
        ([1, 1], [1, float("nan")], [0, 0], "finite and > 0"),
        ([1, 1], [1, 1], [0, -1], "pulls must be >= 0"),
        ([1, 1], [1, 1], [0, 0.5], "whole numbers"),
    ],
)
def test_invalid_posteriors_are_refused(
    alpha: list[float], beta: list[float], pulls: list[float], message: str
) -> None:
    with pytest.raises(InvalidArmsError, match=message):
        forecast_decision(alpha, beta, pulls, WinnerRule(), _rng())


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"k": 0}, "k"),
        ({"paths": 0}, "paths"),
        ({"draws": 0}, "draws"),
        ({"horizon": 0}, "horizon"),
        ({"horizon": 10.5}, "horizon"),
        ({"paths": True}, "paths"),
    ],
)
def test_invalid_settings_are_refused(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(InvalidParameterError, match=name):
        forecast_decision([1, 1], [1, 1], [0, 0], WinnerRule(), _rng(), **kwargs)


def test_deals_that_cannot_reach_the_top_slots_are_left_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[tuple[int, int, int]] = []
    original = forecast_module._PosteriorDraws

    def spy(rng: np.random.Generator, draws: int, rows: int, arms: int) -> Any:
        made.append((draws, rows, arms))
        return original(rng, draws, rows, arms)

    monkeypatch.setattr(forecast_module, "_PosteriorDraws", spy)
    # Three 8% deals and 197 at 2% after 5,000 impressions each: only the three can be shown
    # in the top two slots, within 2 x 1e-4 + 1e-3 (stats.plausible_top).
    alpha = np.r_[np.full(3, 401.0), np.full(197, 101.0)]
    beta = 5002.0 - alpha
    pulls = np.full(200, 5_000)
    forecast = forecast_decision(alpha, beta, pulls, WinnerRule(), _rng(), k=2, horizon=5_000)
    assert {arms for _, _, arms in made} == {3}
    assert forecast.paths == 32


def test_many_plausible_deals_get_fewer_draws_then_fewer_paths(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[tuple[int, int, int]] = []
    original = forecast_module._PosteriorDraws

    def spy(rng: np.random.Generator, draws: int, rows: int, arms: int) -> Any:
        made.append((draws, rows, arms))
        return original(rng, draws, rows, arms)

    monkeypatch.setattr(forecast_module, "_PosteriorDraws", spy)
    monkeypatch.setattr(forecast_module, "_MAX_TOTAL_ELEMENTS", 200_000)
    # 100 fresh deals, 1,000 impressions: ten blocks of 100 and the check now, 11 checks.
    # 200,000 / (11 x 100) = 181 draws x paths: draws down to 50, then paths down to 8.
    fresh = np.ones(100)
    forecast = forecast_decision(
        fresh, fresh, np.zeros(100), WinnerRule(min_impressions=10**9), _rng(), horizon=1_000
    )
    assert forecast.paths == 8
    assert made == [(50, 1, 100), (50, 8, 100)]


@pytest.mark.parametrize(
    ("so_far", "horizon", "checks"), [(0, 100, 2), (0, 500, 6), (0, 600, 7), (10_000, 2_000, 2)]
)
def test_checks_count_the_blocks_and_the_check_now(so_far: int, horizon: int, checks: int) -> None:
    assert forecast_module._checks(so_far, horizon) == checks


@pytest.mark.parametrize(
    ("arms", "checks", "sizes"),
    [
        (10, 36, (1000, 32)),  # a small campaign: untouched
        (100, 36, (138, 32)),  # 16M / (36 x 100 x 32) draws
        (1_000, 36, (50, 8)),  # both floors
        (1_000, 15, (50, 21)),  # 16M / (15 x 1,000 x 50) paths
        (10_000, 36, (25, 8)),  # floors, then 2M elements a check at most
    ],
)
def test_sizes_stay_within_the_budget_or_at_the_floors(
    arms: int, checks: int, sizes: tuple[int, int]
) -> None:
    draws, paths = forecast_module._sizes(1000, 32, arms, checks)
    assert (draws, paths) == sizes
    assert draws * paths * arms <= forecast_module._MAX_ELEMENTS
    at_floors = draws <= forecast_module._MIN_DRAWS and paths == forecast_module._MIN_PATHS
    assert at_floors or draws * paths * arms * checks <= forecast_module._MAX_TOTAL_ELEMENTS
