"""Position-based model: exact recovery, maximum likelihood, identifiability, posteriors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import ArrayLike
from scipy import optimize, special

from hotdeals.bandit.errors import InvalidArmsError, InvalidParameterError
from hotdeals.bandit.positions import (
    corrected_posteriors,
    effective_impressions,
    fit_examination,
    fit_examination_batch,
)

THETA = np.array([0.14, 0.13, 0.10, 0.08, 0.06, 0.04])
EXAMINATION = np.array([1.0, 0.75, 0.6])


def loglik(n: ArrayLike, c: ArrayLike, theta: ArrayLike, e: ArrayLike) -> float:
    """The PBM binomial log-likelihood, written independently of the module."""
    n, c = np.asarray(n, dtype=float), np.asarray(c, dtype=float)
    p = np.outer(np.nan_to_num(np.asarray(theta, dtype=float)), np.asarray(e, dtype=float))
    return float((special.xlogy(c, p) + special.xlogy(n - c, 1.0 - p)).sum())


def random_counts(rng: np.random.Generator, total: int) -> tuple[np.ndarray, np.ndarray]:
    """Impressions spread unevenly over (deal, slot) cells, clicks drawn from the true PBM."""
    weights = rng.dirichlet(np.ones(THETA.size * EXAMINATION.size)).reshape(THETA.size, -1)
    n = rng.multinomial(total, weights.ravel()).reshape(weights.shape)
    return n, rng.binomial(n, np.outer(THETA, EXAMINATION))


def test_counts_that_follow_the_model_exactly_give_back_its_parameters() -> None:
    theta, e = np.array([0.2, 0.1, 0.05]), np.array([1.0, 0.75, 0.6])
    n = np.full((3, 3), 10_000)
    c = np.round(n * np.outer(theta, e)).astype(int)  # whole numbers: 2000, 1500, ..., 300
    fit = fit_examination(n, c)
    assert fit.converged
    # The change per iteration is below 1e-9 at the end; EM's slow rate here (~0.99) leaves
    # the estimate within ~1e-7 of the maximum, which is the truth for these counts.
    np.testing.assert_allclose(fit.probabilities, e, atol=1e-6)
    np.testing.assert_allclose(fit.attractiveness, theta, atol=1e-6)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_fit_is_the_maximum_a_general_optimiser_finds(seed: int) -> None:
    n, c = random_counts(np.random.default_rng(seed), 20_000)
    fit = fit_examination(n, c)
    assert fit.converged
    assert fit.iterations < 100

    def negative(x: np.ndarray) -> tuple[float, np.ndarray]:
        theta, e = x[: THETA.size], np.concatenate([[1.0], x[THETA.size :]])
        p = np.outer(theta, e)
        # d/dp of the log-likelihood of one cell, then the chain rule through p = theta * e.
        slope = c / p - (n - c) / (1.0 - p)
        gradient = np.concatenate([(slope * e).sum(1), (slope * theta[:, None]).sum(0)[1:]])
        return -loglik(n, c, theta, e), -gradient

    start = np.concatenate([c.sum(1) / n.sum(1), [0.5, 0.5]])
    best = optimize.minimize(
        negative,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(1e-6, 0.999)] * start.size,
        options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 10_000},
    )
    assert best.success
    ours = loglik(n, c, fit.attractiveness, fit.probabilities)
    assert ours >= -best.fun - 1e-6
    np.testing.assert_allclose(fit.probabilities[1:], best.x[THETA.size :], atol=1e-5)
    np.testing.assert_allclose(fit.attractiveness, best.x[: THETA.size], atol=1e-5)


def test_the_fit_is_nearly_unbiased_at_twenty_thousand_impressions() -> None:
    # 200 independent campaigns fitted as one stack. The tolerance is 4 Monte Carlo standard
    # errors of the mean estimate (spread of the 200 fits / sqrt(200)) plus 0.002 for the
    # O(1/n) bias of a maximum-likelihood estimate.
    rng = np.random.default_rng(7)
    stack = [random_counts(rng, 20_000) for _ in range(200)]
    estimates = fit_examination_batch([s[0] for s in stack], [s[1] for s in stack])
    mean = estimates.mean(axis=0)
    standard_error = estimates.std(axis=0, ddof=1) / np.sqrt(len(stack))
    assert (np.abs(mean - EXAMINATION) <= 4 * standard_error + 0.002).all()
    assert np.abs(estimates[:, 1:] - EXAMINATION[1:]).mean() < 0.06


def test_a_stack_is_fitted_row_by_row_as_single_campaigns() -> None:
    rng = np.random.default_rng(11)
    stack = [random_counts(rng, total) for total in (500, 5_000, 50_000)]
    together = fit_examination_batch([s[0] for s in stack], [s[1] for s in stack])
    for row, (n, c) in enumerate(stack):
        np.testing.assert_allclose(together[row], fit_examination(n, c).probabilities, rtol=1e-12)


def test_a_warm_start_from_the_last_fit_converges_in_fewer_iterations_to_the_same_fit() -> None:
    rng = np.random.default_rng(12)
    n, c = random_counts(rng, 200_000)
    last = fit_examination(n, c)
    more_n, more_c = random_counts(rng, 2_000)  # the counters grew a little since
    cold = fit_examination(n + more_n, c + more_c)
    warm = fit_examination(n + more_n, c + more_c, start=last.probabilities)
    assert warm.converged
    assert warm.iterations < cold.iterations
    np.testing.assert_allclose(warm.probabilities, cold.probabilities, atol=1e-6)


def test_no_counts_at_all_fit_to_no_position_effect() -> None:
    fit = fit_examination(np.zeros((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(fit.probabilities, [1.0, 1.0, 1.0])
    assert np.isnan(fit.attractiveness).all()
    assert fit.converged
    assert fit.iterations == 1


def test_a_slot_without_impressions_repeats_the_slot_above_it() -> None:
    n = np.array([[1000, 1000, 0], [1000, 1000, 0]])
    c = np.array([[100, 50, 0], [60, 30, 0]])
    fit = fit_examination(n, c)
    assert fit.probabilities[1] == pytest.approx(0.5, abs=1e-6)
    assert fit.probabilities[2] == fit.probabilities[1]


def test_a_slot_seen_only_by_deals_never_clicked_is_not_guessed() -> None:
    # Deal 2 was never clicked: slot 2's impressions say nothing about examination there.
    n = np.array([[1000, 0, 0], [0, 0, 500], [0, 800, 0]])
    c = np.array([[100, 0, 0], [0, 0, 40], [0, 0, 0]])
    fit = fit_examination(n, c)
    np.testing.assert_array_equal(fit.probabilities, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(fit.attractiveness, [0.1, 0.08, 0.0], atol=1e-9)


def test_deals_that_never_share_a_slot_leave_the_examination_unidentified() -> None:
    # A fixed ranking: the deal in slot 2 may be weaker or less seen, the counts cannot tell.
    n = np.diag([2000, 2000, 2000])
    c = np.diag([200, 150, 120])
    fit = fit_examination(n, c)
    np.testing.assert_array_equal(fit.probabilities, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(fit.attractiveness, [0.1, 0.075, 0.06], atol=1e-12)


def test_a_deal_without_clicks_is_fitted_as_unattractive() -> None:
    n = np.array([[1000, 1000], [500, 500]])
    c = np.array([[100, 70], [0, 0]])
    fit = fit_examination(n, c)
    assert fit.attractiveness[1] == pytest.approx(0.0, abs=1e-9)
    assert fit.probabilities[1] == pytest.approx(0.7, abs=1e-6)


def test_one_iteration_is_reported_as_not_converged() -> None:
    n, c = random_counts(np.random.default_rng(5), 10_000)
    fit = fit_examination(n, c, max_iterations=1)
    assert (fit.iterations, fit.converged) == (1, False)


counts = st.integers(min_value=1, max_value=4).flatmap(
    lambda deals: st.integers(min_value=1, max_value=3).flatmap(
        lambda slots: st.tuples(
            st.lists(st.integers(0, 40), min_size=deals * slots, max_size=deals * slots).map(
                lambda v: np.array(v).reshape(deals, slots)
            ),
            st.lists(st.floats(0, 1), min_size=deals * slots, max_size=deals * slots).map(
                lambda v: np.array(v).reshape(deals, slots)
            ),
        )
    )
)


@settings(max_examples=60, deadline=None)
@given(counts)
def test_any_counters_give_a_valid_fit_at_least_as_likely_as_no_position_effect(
    drawn: tuple[np.ndarray, np.ndarray],
) -> None:
    n, share = drawn
    c = np.floor(n * share).astype(int)
    fit = fit_examination(n, c)
    e, theta = fit.probabilities, fit.attractiveness
    assert e[0] == 1.0
    assert ((e >= 0) & (e <= 1)).all()
    shown = n.sum(axis=1) > 0
    np.testing.assert_array_equal(np.isnan(theta), ~shown)
    assert ((theta[shown] >= 0) & (theta[shown] <= 1)).all()
    plain = np.divide(c.sum(1), n.sum(1), out=np.zeros(len(n)), where=shown)
    # The plain CTRs with e = 1 are one point of the model, so the fit can only do better.
    assert loglik(n, c, theta, e) >= loglik(n, c, plain, np.ones(n.shape[1])) - 1e-7
    again = fit_examination(n, c)
    np.testing.assert_array_equal(again.probabilities, e)


def test_effective_impressions_weigh_each_slot_by_its_examination() -> None:
    n = np.array([[100, 40, 10], [0, 0, 50]])
    np.testing.assert_allclose(effective_impressions(n, [1.0, 0.5, 0.2]), [122.0, 10.0])


def test_corrected_posteriors_count_only_the_impressions_looked_at() -> None:
    n = np.array([[100, 40, 10], [0, 0, 50]])
    c = np.array([[10, 2, 1], [0, 0, 2]])
    alpha, beta = corrected_posteriors(n, c, [1.0, 0.5, 0.2], 1.0, 2.0)
    np.testing.assert_allclose(alpha, [14.0, 3.0])
    np.testing.assert_allclose(beta, [2.0 + 122 - 13, 2.0 + 10 - 2])


def test_corrected_posteriors_without_position_effect_are_the_plain_ones() -> None:
    n, c = random_counts(np.random.default_rng(3), 3_000)
    alpha, beta = corrected_posteriors(n, c, np.ones(3), 1.0, 1.0)
    np.testing.assert_array_equal(alpha, 1.0 + c.sum(1))
    np.testing.assert_array_equal(beta, 1.0 + n.sum(1) - c.sum(1))


def test_corrected_beta_never_falls_below_the_prior() -> None:
    # 6 clicks in 10 slot-2 impressions with e_2 = 0.5: 5 effective impressions only.
    alpha, beta = corrected_posteriors([[0, 10]], [[0, 6]], [1.0, 0.5], 1.0, 1.0)
    assert (alpha[0], beta[0]) == (7.0, 1.0)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: fit_examination([[1, 2]], [[1, 2, 3]]), InvalidArmsError, "same shape"),
        (lambda: fit_examination([1, 2], [1, 2]), InvalidArmsError, r"\(deals, slots\)"),
        (lambda: fit_examination([[1, -2]], [[0, 0]]), InvalidArmsError, "whole numbers"),
        (lambda: fit_examination([[1.5]], [[0]]), InvalidArmsError, "whole numbers"),
        (lambda: fit_examination([["a"]], [[0]]), InvalidArmsError, "numbers"),
        (lambda: fit_examination([[1, 2]], [[2, 0]]), InvalidArmsError, "exceed"),
        (lambda: fit_examination([[1]], [[0]], max_iterations=0), InvalidParameterError, "max_"),
        (lambda: fit_examination([[1]], [[0]], tol=0.0), InvalidParameterError, "tol"),
        (lambda: fit_examination_batch([[1]], [[0]]), InvalidArmsError, r"\(runs, deals"),
        (lambda: effective_impressions([[1, 2]], [1.0]), InvalidParameterError, "one value"),
        (lambda: effective_impressions([[1]], [1.5]), InvalidParameterError, r"\[0, 1\]"),
        (lambda: corrected_posteriors([[1]], [[0]], [1], 0, 1), InvalidParameterError, "prior_a"),
        (lambda: corrected_posteriors([[1]], [[0]], [1], 1, -1), InvalidParameterError, "prior_b"),
    ],
)
def test_malformed_inputs_are_refused(call: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()
