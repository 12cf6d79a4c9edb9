"""Uplift over an even split: the exact mean, the exact variance, and the interval's quantiles."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from hotdeals.bandit.errors import InvalidArmsError, InvalidParameterError
from hotdeals.bandit.uplift import _even_clicks_draws, uplift_vs_even

ALPHA = np.array([141.0, 131.0, 41.0, 9.0])
BETA = np.array([860.0, 871.0, 461.0, 94.0])
SLOTS = np.array([5_000, 5_000, 5_000])
EXAMINATION = np.array([1.0, 0.75, 0.6])


def exact_moments(
    n: np.ndarray, e: np.ndarray, alpha: np.ndarray, beta: np.ndarray
) -> tuple[float, float]:
    """E[X] and Var[X] of the even split's clicks, by the laws of total expectation/variance.

    With q_p = e_p * theta_bar: E[X | theta] = sum N_p q_p, Var[X | theta] = sum N_p q_p (1 -
    q_p); theta_bar is a mean of independent Betas, so E[theta_bar] = mean(m) and
    Var[theta_bar] = sum Var(theta_d) / D^2.
    """
    m = alpha / (alpha + beta)
    var_theta = alpha * beta / ((alpha + beta) ** 2 * (alpha + beta + 1))
    mean_bar, var_bar = m.mean(), var_theta.sum() / len(m) ** 2
    second_bar = var_bar + mean_bar**2
    within = float((n * (e * mean_bar - e**2 * second_bar)).sum())
    between = float((n @ e) ** 2 * var_bar)
    return float(n @ e * mean_bar), within + between


def test_the_even_split_expects_the_mean_rate_in_every_slot_it_examines() -> None:
    uplift = uplift_vs_even(
        1_500, SLOTS, ALPHA, BETA, np.random.default_rng(0), examination=EXAMINATION
    )
    expected = (SLOTS @ EXAMINATION) * np.mean(ALPHA / (ALPHA + BETA))
    assert uplift.even_expected == pytest.approx(expected, rel=1e-12)
    assert uplift.gained == pytest.approx(1_500 - expected, rel=1e-12)
    assert uplift.clicks == 1_500


def test_draws_have_the_exact_mean_and_variance() -> None:
    draws = 200_000
    x = _even_clicks_draws(SLOTS, EXAMINATION, ALPHA, BETA, np.random.default_rng(1), draws)
    mean, variance = exact_moments(SLOTS, EXAMINATION, ALPHA, BETA)
    # Four Monte Carlo standard errors: sd / sqrt(draws) for the mean and, for the variance,
    # sqrt((m4 - var^2) / draws) with m4 the draws' fourth central moment.
    assert abs(x.mean() - mean) < 4 * np.sqrt(variance / draws)
    m4 = float(((x - x.mean()) ** 4).mean())
    assert abs(x.var(ddof=1) - variance) < 4 * np.sqrt((m4 - variance**2) / draws)


def test_the_interval_matches_the_normal_approximation_for_large_counts() -> None:
    n = np.array([200_000, 200_000, 200_000])
    alpha, beta = ALPHA * 100, BETA * 100  # near-normal posteriors
    uplift = uplift_vs_even(
        60_000, n, alpha, beta, np.random.default_rng(2), examination=EXAMINATION
    )
    mean, variance = exact_moments(n, EXAMINATION, alpha, beta)
    half = stats.norm.ppf(0.975) * np.sqrt(variance)
    # Each end has a Monte Carlo standard error of ~0.019 sd (sqrt(q(1-q)/draws) / pdf(z));
    # 0.1 sd is five of them and also covers the small skewness left in the Betas.
    tolerance = 0.1 * np.sqrt(variance)
    assert uplift.low == pytest.approx(60_000 - mean - half, abs=tolerance)
    assert uplift.high == pytest.approx(60_000 - mean + half, abs=tolerance)


def test_known_rates_and_one_slot_give_the_binomial_quantiles() -> None:
    # Posteriors so tight (CTRs 0.05 and 0.15 to 1e-7) that X is Binomial(1000, 0.1).
    alpha, beta = np.array([0.5e12, 1.5e12]), np.array([9.5e12, 8.5e12])
    uplift = uplift_vs_even(150, [1_000], alpha, beta, np.random.default_rng(3))
    low, high = stats.binom.ppf([0.025, 0.975], 1_000, 0.1)
    # The empirical quantile of 20,000 integer draws lands within one click of the true one.
    assert uplift.high == pytest.approx(150 - low, abs=1)
    assert uplift.low == pytest.approx(150 - high, abs=1)


def test_no_examination_means_every_slot_is_fully_seen() -> None:
    plain = uplift_vs_even(900, SLOTS, ALPHA, BETA, np.random.default_rng(4))
    ones = uplift_vs_even(900, SLOTS, ALPHA, BETA, np.random.default_rng(4), examination=[1, 1, 1])
    assert plain == ones
    assert plain.even_expected == pytest.approx(SLOTS.sum() * np.mean(ALPHA / (ALPHA + BETA)))


def test_no_impressions_gain_nothing_for_sure() -> None:
    uplift = uplift_vs_even(0, [0, 0], ALPHA, BETA, np.random.default_rng(5))
    assert (uplift.even_expected, uplift.gained, uplift.low, uplift.high) == (0.0, 0.0, 0.0, 0.0)


def test_the_same_generator_seed_reproduces_the_interval() -> None:
    first = uplift_vs_even(1_200, SLOTS, ALPHA, BETA, np.random.default_rng(6), draws=2_000)
    second = uplift_vs_even(1_200, SLOTS, ALPHA, BETA, np.random.default_rng(6), draws=2_000)
    assert first == second


def test_many_deals_draw_their_mean_rate_with_the_exact_moments() -> None:
    # 5,000 deals x 20,000 draws are beyond the exact draws: the mean rate comes from the Beta
    # with its exact mean and variance, so the clicks keep their exact moments (4 Monte Carlo
    # standard errors, as above) and, the mean rate being near normal, the normal quantiles.
    deals, draws = 5_000, 20_000
    rng = np.random.default_rng(8)
    alpha, beta = rng.uniform(5, 50, deals), rng.uniform(100, 900, deals)
    n, e = np.array([2_000_000, 2_000_000]), np.array([1.0, 0.5])
    x = _even_clicks_draws(n, e, alpha, beta, rng, draws)
    mean, variance = exact_moments(n, e, alpha, beta)
    assert abs(x.mean() - mean) < 4 * np.sqrt(variance / draws)
    m4 = float(((x - x.mean()) ** 4).mean())
    assert abs(x.var(ddof=1) - variance) < 4 * np.sqrt((m4 - variance**2) / draws)
    low, high = np.quantile(x, [0.025, 0.975])
    half = stats.norm.ppf(0.975) * np.sqrt(variance)
    assert low == pytest.approx(mean - half, abs=0.1 * np.sqrt(variance))
    assert high == pytest.approx(mean + half, abs=0.1 * np.sqrt(variance))


def test_the_moment_matched_mean_rate_gives_the_exact_interval_just_past_the_threshold() -> None:
    # 30 skewed posteriors (few clicks each): 10,000 draws are made exactly, 20,000 through
    # the moment-matched Beta. The ends agree within 0.1 sd of X: ~0.02 sd of Monte Carlo
    # error each (0.03 for the 10,000 draws) plus what is left of the Betas' skewness.
    rng = np.random.default_rng(9)
    alpha, beta = rng.uniform(1, 4, 30), rng.uniform(100, 300, 30)
    n = np.array([300_000, 300_000, 300_000])
    exact = _even_clicks_draws(n, EXAMINATION, alpha, beta, rng, 10_000)
    matched = _even_clicks_draws(n, EXAMINATION, alpha, beta, rng, 20_000)
    sd = np.sqrt(exact_moments(n, EXAMINATION, alpha, beta)[1])
    quantiles = [0.025, 0.5, 0.975]
    np.testing.assert_allclose(
        np.quantile(matched, quantiles), np.quantile(exact, quantiles), atol=0.1 * sd
    )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 2_000), min_size=1, max_size=4),
    st.floats(0.5, 0.9),
    st.integers(0, 2**32 - 1),
)
def test_a_higher_level_widens_the_interval_around_the_same_draws(
    slots: list[int], level: float, seed: int
) -> None:
    clicks = sum(slots) // 20
    narrow = uplift_vs_even(
        clicks, slots, ALPHA, BETA, np.random.default_rng(seed), draws=500, level=level
    )
    wide = uplift_vs_even(
        clicks, slots, ALPHA, BETA, np.random.default_rng(seed), draws=500, level=0.99
    )
    assert wide.low <= narrow.low <= narrow.high <= wide.high
    assert narrow.even_expected == wide.even_expected


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"clicks": -1}, InvalidParameterError, "clicks"),
        ({"clicks": 10**9}, InvalidParameterError, "exceed"),
        ({"slot_impressions": [1, -1]}, InvalidArmsError, ">= 0"),
        ({"slot_impressions": [1.5]}, InvalidArmsError, "whole numbers"),
        ({"alpha": [1.0]}, InvalidArmsError, "same length"),
        ({"alpha": [], "beta": []}, InvalidArmsError, "at least one"),
        ({"beta": [1.0, 0.0]}, InvalidArmsError, "> 0"),
        ({"examination": [1.0]}, InvalidParameterError, "one value per slot"),
        ({"examination": [1.0, 1.1]}, InvalidParameterError, r"\[0, 1\]"),
        ({"draws": 0}, InvalidParameterError, "draws"),
        ({"level": 1.0}, InvalidParameterError, "level"),
    ],
)
def test_malformed_inputs_are_refused(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    arguments: dict[str, Any] = {
        "clicks": 10,
        "slot_impressions": [100, 100],
        "alpha": [2.0, 3.0],
        "beta": [20.0, 30.0],
        "rng": np.random.default_rng(0),
    }
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        uplift_vs_even(**arguments)
