"""Posterior statistics for the dashboard and for the rule that ends a campaign with a winner.

The dashboard shows, per deal, the posterior mean with an equal-tailed credible interval, the
probability that the deal is the best one and its expected loss (how many clicks per impression
we would give up by declaring it the winner if it is not). The last two have no closed form for
more than two arms, so they come from one vectorised Monte Carlo draw of all posteriors; the
exact two-arm formula is kept to test that simulation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import special
from scipy import stats as scipy_stats

from hotdeals.bandit.arrays import FloatArray
from hotdeals.bandit.checks import check_number
from hotdeals.bandit.errors import InvalidArmsError, InvalidParameterError

__all__ = [
    "ArmStatistics",
    "arm_statistics",
    "arm_statistics_batch",
    "credible_interval",
    "draw_statistics",
    "posterior_mean",
    "prob_best_two_exact",
]

# Floats per Monte Carlo chunk: two (chunk, arms) float64 matrices of 16 MB each, plus smaller
# temporaries, keep the peak near 50 MB however many arms and draws are asked for.
_CHUNK_ELEMENTS = 2_000_000


def posterior_mean(alpha: ArrayLike, beta: ArrayLike) -> FloatArray:
    """``alpha / (alpha + beta)``: the CTR estimate that the prior keeps sane for new deals."""
    a, b = _posterior_parameters(alpha, beta)
    mean: FloatArray = a / (a + b)
    return mean


def credible_interval(
    alpha: ArrayLike, beta: ArrayLike, level: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Equal-tailed interval: ``(1 - level) / 2`` of the posterior mass lies beyond each end.

    Equal tails rather than highest density because it is what analysts expect next to a CTR
    and it is monotone in the counts. It contains the posterior mean whenever alpha, beta >= 1
    (log-concave posteriors, e.g. any posterior from the default uniform prior), but not for
    priors far below 1, where most of the mass sits at one end.
    """
    level = check_number(level, "level", low=0, high=1, low_inclusive=False, high_inclusive=False)
    a, b = _posterior_parameters(alpha, beta)
    tail = (1.0 - level) / 2.0
    low = np.asarray(scipy_stats.beta.ppf(tail, a, b), dtype=np.float64)
    high = np.asarray(scipy_stats.beta.ppf(1.0 - tail, a, b), dtype=np.float64)
    return low, high


@dataclass(frozen=True)
class ArmStatistics:
    """Per-arm summary of the posteriors, index ``i`` describing arm ``i`` of the input."""

    mean: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    prob_best: FloatArray
    expected_loss: FloatArray


def arm_statistics(
    alpha: ArrayLike,
    beta: ArrayLike,
    rng: np.random.Generator,
    draws: int = 20_000,
    level: float = 0.95,
) -> ArmStatistics:
    """All dashboard statistics from one Monte Carlo matrix of posterior draws (draws, arms).

    ``prob_best[i]`` is the share of draws in which arm ``i`` has the highest sample (the first
    one on an exact tie, so the shares always sum to 1) and ``expected_loss[i]`` is the mean of
    ``max_j theta_j - theta_i``. With 20,000 draws the Monte Carlo error of a probability is at
    most 0.0035 (one standard deviation), below what the dashboard displays. The draws are made
    in chunks so that memory stays bounded for campaigns with thousands of deals.
    """
    draws = check_number(draws, "draws", low=1, integer=True)
    a, b = _posterior_parameters(alpha, beta)
    if a.ndim != 1:
        raise InvalidArmsError(f"alpha and beta must be one-dimensional, got shape {a.shape}")
    low, high = credible_interval(a, b, level)
    arms = len(a)
    wins = np.zeros(arms, dtype=np.int64)
    loss_sum = np.zeros(arms, dtype=np.float64)
    if arms > 0:
        chunk = max(1, _CHUNK_ELEMENTS // arms)
        for start in range(0, draws, chunk):
            rows = min(chunk, draws - start)
            theta = rng.beta(a, b, size=(rows, arms))
            best = np.argmax(theta, axis=1)
            wins += np.bincount(best, minlength=arms)
            loss_sum += (theta[np.arange(rows), best][:, np.newaxis] - theta).sum(axis=0)
    return ArmStatistics(
        mean=a / (a + b),
        ci_low=low,
        ci_high=high,
        prob_best=wins / float(draws),
        expected_loss=loss_sum / float(draws),
    )


def arm_statistics_batch(
    alpha: ArrayLike, beta: ArrayLike, rng: np.random.Generator, draws: int = 2000
) -> tuple[FloatArray, FloatArray]:
    """(S, A) posteriors -> (prob_best (S, A), expected_loss (S, A)), one Monte Carlo per row.

    Row ``s`` gets what :func:`arm_statistics` gives for the campaign of row ``s`` (same
    definitions, the first arm on a tie), with all rows drawn in one (draws, S, A) tensor, so a
    simulation can test a winner rule on every seed at once. The default 2,000 draws put the
    Monte Carlo error of a probability at most 0.011 (one standard deviation): plenty to test a
    threshold, not to display. The draws are chunked over rows and draws so that memory stays
    near ``_CHUNK_ELEMENTS`` floats whatever the shape.
    """
    draws = check_number(draws, "draws", low=1, integer=True)
    a, b = _posterior_parameters(alpha, beta)
    if a.ndim != 2:
        raise InvalidArmsError(f"alpha and beta must be (rows, arms) arrays, got shape {a.shape}")
    n_rows, arms = a.shape
    prob_best = np.zeros((n_rows, arms), dtype=np.float64)
    expected_loss = np.zeros((n_rows, arms), dtype=np.float64)
    row_block = max(1, _CHUNK_ELEMENTS // max(arms, 1))
    for first in range(0, n_rows if arms else 0, row_block):
        block = slice(first, min(first + row_block, n_rows))
        chunk = max(1, _CHUNK_ELEMENTS // ((block.stop - first) * arms))
        for start in range(0, draws, chunk):
            rows = min(chunk, draws - start)
            theta = rng.beta(a[block], b[block], size=(rows, block.stop - first, arms))
            chunk_best, chunk_loss = draw_statistics(theta)
            # Weighted by the chunk's share of the draws: the mean over all draws.
            prob_best[block] += chunk_best * (rows / draws)
            expected_loss[block] += chunk_loss * (rows / draws)
    return prob_best, expected_loss


def draw_statistics(theta: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(draws, S, A) posterior draws -> (prob_best (S, A), expected_loss (S, A)).

    The shares of draws in which each arm is highest (the first one on an exact tie) and the
    means of ``max_j theta_j - theta_i``, for callers that draw the posteriors themselves and
    use the same draws for something else (the forecast allocates traffic with them).
    """
    draws, rows, arms = theta.shape
    best = np.argmax(theta, axis=2)
    offsets = np.arange(rows)[:, np.newaxis] * arms  # flat index of (row, arm 0)
    wins = np.bincount((best.T + offsets).ravel(), minlength=rows * arms).reshape(rows, arms)
    top = np.take_along_axis(theta, best[:, :, np.newaxis], axis=2)
    # Summed as differences (not sum(max) - sum(theta_i), which saves a temporary): an arm that
    # is highest in every draw then loses exactly 0, which a rule on the loss can rely on.
    loss_sum = (top - theta).sum(axis=0)
    prob_best: FloatArray = wins / float(draws)
    expected_loss: FloatArray = loss_sum / float(draws)
    return prob_best, expected_loss


def prob_best_two_exact(a1: float, b1: float, a2: float, b2: float) -> float:
    """Exact ``P(theta2 > theta1)`` for independent ``Beta(a1, b1)`` and ``Beta(a2, b2)``.

    Evan Miller's closed form ("Formulas for Bayesian A/B Testing"):
    ``sum_{i=0}^{a2-1} B(a1+i, b1+b2) / ((b2+i) B(1+i, b2) B(a1, b1))``, which needs ``a2`` to
    be a whole number (true whenever the prior alpha is); if only ``a1`` is, the complement is
    used. Terms are summed in log space because the Beta functions underflow for real traffic.
    """
    a1 = check_number(a1, "a1", low=0, low_inclusive=False)
    b1 = check_number(b1, "b1", low=0, low_inclusive=False)
    a2 = check_number(a2, "a2", low=0, low_inclusive=False)
    b2 = check_number(b2, "b2", low=0, low_inclusive=False)
    # The sum has one term per unit of the whole alpha: use the smaller one when both qualify.
    a1_whole, a2_whole = a1.is_integer(), a2.is_integer()
    if a2_whole and not (a1_whole and a1 < a2):
        return _miller(a1, b1, a2, b2)
    if a1_whole:
        return 1.0 - _miller(a2, b2, a1, b1)
    raise InvalidParameterError(
        f"the closed form needs a whole alpha for one of the arms, got a1={a1!r} and a2={a2!r}"
    )


def _posterior_parameters(alpha: ArrayLike, beta: ArrayLike) -> tuple[FloatArray, FloatArray]:
    try:
        a = np.asarray(alpha, dtype=np.float64)
        b = np.asarray(beta, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidArmsError("alpha and beta must be numbers") from exc
    if a.shape != b.shape:
        raise InvalidArmsError(
            f"alpha and beta must have the same shape, got {a.shape} and {b.shape}"
        )
    if not bool(np.all(np.isfinite(a) & (a > 0) & np.isfinite(b) & (b > 0))):
        raise InvalidArmsError("alpha and beta must be finite and > 0")
    return a, b


def _miller(a1: float, b1: float, a2: float, b2: float) -> float:
    i = np.arange(int(a2), dtype=np.float64)
    log_terms = (
        special.betaln(a1 + i, b1 + b2)
        - np.log(b2 + i)
        - special.betaln(1.0 + i, b2)
        - special.betaln(a1, b1)
    )
    return float(np.clip(np.exp(special.logsumexp(log_terms)), 0.0, 1.0))
