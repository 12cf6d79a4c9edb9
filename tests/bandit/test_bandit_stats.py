"""Posterior statistics: known Beta quantiles, probabilities to be best, expected losses."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special
from scipy import stats as scipy_stats

from hotdeals.bandit import (
    InvalidArmsError,
    InvalidParameterError,
    arm_statistics,
    credible_interval,
    posterior_mean,
    prob_best_two_exact,
)
from hotdeals.bandit import stats as bandit_stats


@pytest.mark.parametrize(
    ("alpha", "beta", "expected"),
    [(1, 1, 0.5), (2, 8, 0.2), (11, 91, 11 / 102), (0.5, 0.5, 0.5), (1000, 1, 1000 / 1001)],
)
def test_posterior_mean(alpha: float, beta: float, expected: float) -> None:
    assert float(posterior_mean(alpha, beta)) == pytest.approx(expected, rel=1e-12)


def test_posterior_mean_is_vectorised() -> None:
    np.testing.assert_allclose(posterior_mean([1, 2, 3], [1, 2, 1]), [0.5, 0.5, 0.75])


@pytest.mark.parametrize(
    ("alpha", "beta", "level", "low", "high"),
    [
        # Beta(1, 1) is uniform: the quantiles are the probabilities themselves.
        (1, 1, 0.95, 0.025, 0.975),
        (1, 1, 0.80, 0.10, 0.90),
        # Beta(a, 1) has CDF x**a, so ppf(q) = q**(1/a).
        (2, 1, 0.95, 0.025**0.5, 0.975**0.5),
        (5, 1, 0.90, 0.05**0.2, 0.95**0.2),
        (0.5, 1, 0.95, 0.025**2, 0.975**2),
        # Beta(1, b) has CDF 1 - (1 - x)**b, so ppf(q) = 1 - (1 - q)**(1/b).
        (1, 3, 0.95, 1 - 0.975 ** (1 / 3), 1 - 0.025 ** (1 / 3)),
    ],
)
def test_credible_interval_matches_closed_form_quantiles(
    alpha: float, beta: float, level: float, low: float, high: float
) -> None:
    got_low, got_high = credible_interval(alpha, beta, level)
    assert float(got_low) == pytest.approx(low, rel=1e-9, abs=1e-12)
    assert float(got_high) == pytest.approx(high, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(("alpha", "beta"), [(11, 91), (3.5, 2.25), (501, 9501), (2, 2)])
def test_credible_interval_leaves_equal_tails(alpha: float, beta: float) -> None:
    # Checked through the regularised incomplete Beta function (the CDF), not through ppf.
    low, high = credible_interval(alpha, beta)
    assert special.betainc(alpha, beta, float(low)) == pytest.approx(0.025, abs=1e-9)
    assert special.betainc(alpha, beta, float(high)) == pytest.approx(0.975, abs=1e-9)


def test_credible_interval_is_vectorised() -> None:
    low, high = credible_interval([1, 2], [1, 1])
    np.testing.assert_allclose(low, [0.025, 0.025**0.5])
    np.testing.assert_allclose(high, [0.975, 0.975**0.5])


@pytest.mark.parametrize("level", [0.0, 1.0, -0.5, 1.5, float("nan"), "0.95", True])
def test_invalid_level_is_rejected(level: Any) -> None:
    with pytest.raises(InvalidParameterError, match="level"):
        credible_interval(1, 1, level)


@pytest.mark.parametrize(
    ("alpha", "beta"), [(0, 1), (1, -1), (float("nan"), 1), ([1, 2], [1]), (float("inf"), 1)]
)
def test_invalid_posteriors_are_rejected(alpha: Any, beta: Any) -> None:
    with pytest.raises(InvalidArmsError):
        credible_interval(alpha, beta)
    with pytest.raises(InvalidArmsError):
        posterior_mean(alpha, beta)


def _prob_second_better_by_quadrature(a1: float, b1: float, a2: float, b2: float) -> float:
    def integrand(x: float) -> float:
        return float(scipy_stats.beta.pdf(x, a2, b2) * scipy_stats.beta.cdf(x, a1, b1))

    # Integrate where the posteriors live: quad misses a narrow peak on the whole of [0, 1].
    low = min(scipy_stats.beta.ppf(1e-12, a1, b1), scipy_stats.beta.ppf(1e-12, a2, b2))
    high = max(scipy_stats.beta.isf(1e-12, a1, b1), scipy_stats.beta.isf(1e-12, a2, b2))
    inside, _ = integrate.quad(integrand, low, high, limit=200)
    # Above the range theta1 is surely smaller, so the remaining mass of theta2 counts fully.
    return float(inside + scipy_stats.beta.sf(high, a2, b2))


@pytest.mark.parametrize(
    ("a1", "b1", "a2", "b2", "expected"),
    [
        (1, 1, 1, 1, 0.5),
        (2, 1, 1, 1, 1 / 3),  # E[1 - theta1] with theta1 ~ Beta(2, 1)
        (1, 2, 2, 1, 5 / 6),  # integral of 2(1 - x)(1 - x**2)
        (50, 950, 50, 950, 0.5),
    ],
)
def test_prob_best_two_exact_known_values(
    a1: float, b1: float, a2: float, b2: float, expected: float
) -> None:
    assert prob_best_two_exact(a1, b1, a2, b2) == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize(
    ("a1", "b1", "a2", "b2"),
    [(10, 90, 12, 88), (3, 7, 2, 8), (1.5, 3.0, 4, 5.5), (4, 5.5, 1.5, 3.0), (21, 400, 30, 380)],
)
def test_prob_best_two_exact_matches_numerical_integration(
    a1: float, b1: float, a2: float, b2: float
) -> None:
    exact = prob_best_two_exact(a1, b1, a2, b2)
    assert exact == pytest.approx(_prob_second_better_by_quadrature(a1, b1, a2, b2), abs=1e-7)
    assert exact + prob_best_two_exact(a2, b2, a1, b1) == pytest.approx(1.0, abs=1e-9)


def test_prob_best_two_exact_survives_real_traffic_sizes() -> None:
    # Beta functions of these arguments underflow to 0 outside log space.
    value = prob_best_two_exact(3001, 97001, 3101, 96901)
    assert 0.85 < value < 1.0
    assert value == pytest.approx(
        _prob_second_better_by_quadrature(3001, 97001, 3101, 96901), abs=1e-5
    )


@pytest.mark.parametrize(
    "args", [(1.5, 1, 2.5, 1), (0, 1, 1, 1), (1, 1, 1, -2), (1, float("nan"), 1, 1), (1, 1, "1", 1)]
)
def test_prob_best_two_exact_rejects_invalid_input(args: tuple[Any, ...]) -> None:
    with pytest.raises(InvalidParameterError):
        prob_best_two_exact(*args)


@pytest.mark.parametrize(
    ("a1", "b1", "a2", "b2"),
    [
        (1, 1, 1, 1),
        (10, 90, 12, 88),
        (3, 7, 2, 8),
        (50, 950, 60, 940),
        (1.5, 3.0, 4, 5.5),
        (200, 800, 190, 810),
    ],
)
def test_monte_carlo_prob_best_agrees_with_the_exact_formula(
    a1: float, b1: float, a2: float, b2: float
) -> None:
    statistics = arm_statistics([a1, a2], [b1, b2], np.random.default_rng(2024), draws=100_000)
    exact = prob_best_two_exact(a1, b1, a2, b2)
    assert abs(statistics.prob_best[1] - exact) < 0.01
    assert abs(statistics.prob_best[0] - (1.0 - exact)) < 0.01


def test_expected_loss_of_two_uniform_arms() -> None:
    # E[max of two uniforms] = 2/3, so each arm loses 2/3 - 1/2 = 1/6 in expectation.
    statistics = arm_statistics([1, 1], [1, 1], np.random.default_rng(1), draws=200_000)
    np.testing.assert_allclose(statistics.expected_loss, [1 / 6, 1 / 6], atol=0.003)
    np.testing.assert_allclose(statistics.prob_best, [0.5, 0.5], atol=0.005)


def test_a_single_arm_is_surely_best_and_loses_nothing() -> None:
    statistics = arm_statistics([3], [7], np.random.default_rng(0), draws=1000)
    np.testing.assert_array_equal(statistics.prob_best, [1.0])
    np.testing.assert_array_equal(statistics.expected_loss, [0.0])
    np.testing.assert_allclose(statistics.mean, [0.3])


def test_no_arms_give_empty_statistics() -> None:
    statistics = arm_statistics([], [], np.random.default_rng(0))
    assert statistics.prob_best.shape == (0,)
    assert statistics.expected_loss.shape == (0,)


def test_arm_statistics_is_reproducible_and_consistent_with_the_other_functions() -> None:
    alpha, beta = np.array([11.0, 13.0, 4.0]), np.array([91.0, 89.0, 30.0])
    first = arm_statistics(alpha, beta, np.random.default_rng(9), draws=5000)
    second = arm_statistics(alpha, beta, np.random.default_rng(9), draws=5000)
    np.testing.assert_array_equal(first.prob_best, second.prob_best)
    np.testing.assert_array_equal(first.expected_loss, second.expected_loss)
    np.testing.assert_allclose(first.mean, posterior_mean(alpha, beta))
    low, high = credible_interval(alpha, beta)
    np.testing.assert_allclose(first.ci_low, low)
    np.testing.assert_allclose(first.ci_high, high)


def test_chunked_draws_count_every_draw_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Force chunks of 2 rows: 1001 draws must still give win counts that add up to 1001.
    monkeypatch.setattr(bandit_stats, "_CHUNK_ELEMENTS", 6)
    statistics = arm_statistics([5, 6, 7], [50, 50, 50], np.random.default_rng(3), draws=1001)
    wins = statistics.prob_best * 1001
    np.testing.assert_allclose(wins, np.round(wins), atol=1e-9)
    assert np.round(wins).sum() == 1001
    assert (statistics.expected_loss > 0).all()


@pytest.mark.parametrize("draws", [0, -5, 2.5, True, "100"])
def test_invalid_draws_are_rejected(draws: Any) -> None:
    with pytest.raises(InvalidParameterError, match="draws"):
        arm_statistics([1, 1], [1, 1], np.random.default_rng(0), draws=draws)


def test_arm_statistics_needs_a_vector_of_arms() -> None:
    with pytest.raises(InvalidArmsError, match="one-dimensional"):
        arm_statistics([[1, 1]], [[1, 1]], np.random.default_rng(0))


posteriors = st.lists(
    st.tuples(st.floats(1.0, 5000.0), st.floats(1.0, 5000.0)), min_size=1, max_size=12
)


@settings(deadline=None, database=None, max_examples=60)
@given(pairs=posteriors, seed=st.integers(0, 2**32 - 1))
def test_statistics_are_probabilities_and_intervals_contain_the_mean(
    pairs: list[tuple[float, float]], seed: int
) -> None:
    alpha = np.array([a for a, _ in pairs])
    beta = np.array([b for _, b in pairs])
    statistics = arm_statistics(alpha, beta, np.random.default_rng(seed), draws=500)
    for values in (statistics.mean, statistics.ci_low, statistics.ci_high, statistics.prob_best):
        assert ((values >= 0.0) & (values <= 1.0)).all()
    assert statistics.prob_best.sum() == pytest.approx(1.0, abs=1e-12)
    assert (statistics.expected_loss >= 0.0).all()
    assert (statistics.expected_loss <= 1.0).all()
    assert (statistics.ci_low <= statistics.mean).all()
    assert (statistics.mean <= statistics.ci_high).all()


@settings(deadline=None, database=None, max_examples=60)
@given(
    a1=st.integers(1, 300),
    b1=st.floats(0.5, 3000.0),
    a2=st.floats(0.5, 300.0),
    b2=st.floats(0.5, 3000.0),
)
def test_exact_prob_best_is_a_probability_and_complements(
    a1: int, b1: float, a2: float, b2: float
) -> None:
    forward = prob_best_two_exact(a1, b1, a2, b2)
    assert 0.0 <= forward <= 1.0
    assert forward + prob_best_two_exact(a2, b2, a1, b1) == pytest.approx(1.0, abs=1e-9)
