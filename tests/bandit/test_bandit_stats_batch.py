"""Batched posterior statistics: one Monte Carlo per row of (rows, arms) posteriors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotdeals.bandit import (
    InvalidArmsError,
    InvalidParameterError,
    arm_statistics,
    arm_statistics_batch,
    prob_best_two_exact,
)
from hotdeals.bandit import stats as bandit_stats


def test_batch_rows_match_the_exact_two_arm_formula() -> None:
    alpha = np.array([[10, 12], [3, 2], [50, 60], [200, 190]], dtype=float)
    beta = np.array([[90, 88], [7, 8], [950, 940], [800, 810]], dtype=float)
    prob_best, _ = arm_statistics_batch(alpha, beta, np.random.default_rng(5), draws=100_000)
    for row in range(len(alpha)):
        exact = prob_best_two_exact(alpha[row, 0], beta[row, 0], alpha[row, 1], beta[row, 1])
        # A share of 100,000 draws has a standard deviation <= 0.5 / sqrt(1e5) = 0.0016: 5 sd.
        assert prob_best[row, 1] == pytest.approx(exact, abs=0.008)
        assert prob_best[row, 0] == pytest.approx(1.0 - exact, abs=0.008)


def test_batch_expected_loss_matches_closed_forms() -> None:
    # Row 0: two uniforms, E[max] = 2/3, so each loses 1/6. Row 1: X ~ Beta(2, 1) (density 2x)
    # against a uniform U: E[(U - X)+] = integral of x (1 - x)^2 = 1/12 and E[(X - U)+] =
    # integral of x^3 = 1/4; P(U > X) = integral of 2x (1 - x) = 1/3.
    alpha = np.array([[1.0, 1.0], [2.0, 1.0]])
    beta = np.ones((2, 2))
    prob_best, loss = arm_statistics_batch(alpha, beta, np.random.default_rng(8), draws=200_000)
    # The losses are means of variables within [0, 1] with sd < 0.3: sd of the mean < 0.0007.
    np.testing.assert_allclose(loss, [[1 / 6, 1 / 6], [1 / 12, 1 / 4]], atol=0.004)
    np.testing.assert_allclose(prob_best, [[0.5, 0.5], [2 / 3, 1 / 3]], atol=0.006)


def test_a_batch_row_agrees_with_arm_statistics() -> None:
    alpha, beta = np.array([11.0, 13.0, 4.0]), np.array([91.0, 89.0, 30.0])
    single = arm_statistics(alpha, beta, np.random.default_rng(1), draws=100_000)
    prob_best, loss = arm_statistics_batch(
        np.tile(alpha, (3, 1)), np.tile(beta, (3, 1)), np.random.default_rng(2), draws=100_000
    )
    # Two independent estimates of one probability: sd of the difference <= 0.0023, 4 sd.
    np.testing.assert_allclose(prob_best, np.tile(single.prob_best, (3, 1)), atol=0.009)
    np.testing.assert_allclose(loss, np.tile(single.expected_loss, (3, 1)), rtol=0.03)


def test_batch_rows_are_drawn_independently() -> None:
    # Identical rows get different draws: the estimates differ, but only by Monte Carlo noise.
    alpha, beta = np.full((4, 2), 5.0), np.full((4, 2), 20.0)
    prob_best, _ = arm_statistics_batch(alpha, beta, np.random.default_rng(0), draws=1000)
    assert len(np.unique(prob_best[:, 0])) > 1
    np.testing.assert_allclose(prob_best, 0.5, atol=0.08)  # sd 0.016: 5 sd


def test_batch_chunks_count_every_draw_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Blocks of 2 rows (6 // 3 arms) and 1 draw per chunk: 5 rows x 101 draws still add up.
    monkeypatch.setattr(bandit_stats, "_CHUNK_ELEMENTS", 6)
    alpha = np.array([[5, 6, 7]] * 5, dtype=float)
    prob_best, loss = arm_statistics_batch(
        alpha, np.full((5, 3), 50.0), np.random.default_rng(3), 101
    )
    wins = prob_best * 101
    np.testing.assert_allclose(wins, np.round(wins), atol=1e-9)
    np.testing.assert_array_equal(np.round(wins).sum(axis=1), [101] * 5)
    assert (loss > 0).all()


def test_batch_is_reproducible() -> None:
    alpha, beta = np.array([[3.0, 4.0], [30.0, 20.0]]), np.array([[30.0, 30.0], [300.0, 310.0]])
    first = arm_statistics_batch(alpha, beta, np.random.default_rng(4), draws=500)
    second = arm_statistics_batch(alpha, beta, np.random.default_rng(4), draws=500)
    for one, two in zip(first, second, strict=True):
        np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0, 0)])
def test_batch_of_nothing_is_empty(shape: tuple[int, int]) -> None:
    prob_best, loss = arm_statistics_batch(np.ones(shape), np.ones(shape), np.random.default_rng(0))
    assert prob_best.shape == loss.shape == shape


@pytest.mark.parametrize(
    ("alpha", "beta"),
    [([1, 1], [1, 1]), ([[[1]]], [[[1]]]), ([[1, 1]], [[1, 0]]), ([[1]], [[1, 1]])],
)
def test_batch_refuses_what_is_not_a_matrix_of_posteriors(alpha: Any, beta: Any) -> None:
    with pytest.raises(InvalidArmsError):
        arm_statistics_batch(alpha, beta, np.random.default_rng(0))


@pytest.mark.parametrize("draws", [0, 2.5, True])
def test_batch_refuses_invalid_draws(draws: Any) -> None:
    with pytest.raises(InvalidParameterError, match="draws"):
        arm_statistics_batch([[1, 1]], [[1, 1]], np.random.default_rng(0), draws=draws)


def test_draw_statistics_of_known_draws() -> None:
    # Two rows, three arms, four draws; the second draw of row 0 is a tie won by the first arm.
    theta = np.array(
        [
            [[0.1, 0.5, 0.2], [0.9, 0.0, 0.0]],
            [[0.3, 0.3, 0.1], [0.2, 0.4, 0.0]],
            [[0.0, 0.6, 0.2], [0.1, 0.2, 0.7]],
            [[0.7, 0.1, 0.1], [0.3, 0.1, 0.0]],
        ]
    )
    prob_best, loss = bandit_stats.draw_statistics(theta)
    np.testing.assert_allclose(prob_best, [[0.5, 0.5, 0.0], [0.5, 0.25, 0.25]])
    # Row 0: maxima 0.5, 0.3, 0.6, 0.7 (mean 0.525); arm means 0.275, 0.375, 0.15.
    np.testing.assert_allclose(loss[0], [0.25, 0.15, 0.375])
    # Row 1: maxima 0.9, 0.4, 0.7, 0.3 (mean 0.575); arm means 0.375, 0.175, 0.175.
    np.testing.assert_allclose(loss[1], [0.2, 0.4, 0.4])


batches = st.integers(1, 4).flatmap(
    lambda rows: st.integers(1, 6).flatmap(
        lambda arms: st.lists(
            st.tuples(st.floats(1.0, 3000.0), st.floats(1.0, 3000.0)),
            min_size=rows * arms,
            max_size=rows * arms,
        ).map(lambda pairs: np.array(pairs).reshape(rows, arms, 2))
    )
)


@settings(deadline=None, database=None, max_examples=40)
@given(posteriors=batches, seed=st.integers(0, 2**32 - 1))
def test_batch_statistics_are_probabilities_and_losses(posteriors: Any, seed: int) -> None:
    alpha, beta = posteriors[..., 0], posteriors[..., 1]
    prob_best, loss = arm_statistics_batch(alpha, beta, np.random.default_rng(seed), draws=400)
    assert ((prob_best >= 0.0) & (prob_best <= 1.0)).all()
    np.testing.assert_allclose(prob_best.sum(axis=1), 1.0, atol=1e-12)
    assert ((loss >= 0.0) & (loss <= 1.0)).all()
    # The arm that wins every draw has nothing to lose.
    sure = prob_best == 1.0
    np.testing.assert_array_equal(loss[sure], 0.0)
