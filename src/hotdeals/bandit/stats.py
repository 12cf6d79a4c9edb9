"""Posterior statistics for the dashboard and for the rule that ends a campaign with a winner.

The dashboard shows, per deal, the posterior mean with an equal-tailed credible interval, the
probability that the deal is the best one and its expected loss (how many clicks per impression
we would give up by declaring it the winner if it is not). The last two have no closed form for
more than two arms, so they come from one vectorised Monte Carlo draw of the posteriors; the
exact two-arm formula is kept to test that simulation.

With many deals most cannot plausibly win: :func:`plausible_top` screens them out with an exact
bound on the P(best) this misplaces, and the Monte Carlo over the others is capped at
``BUDGET_ELEMENTS`` draws x deals (docs/simulation.md, "P(best) for many deals").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special
from scipy import stats as scipy_stats

from hotdeals.bandit.arrays import FloatArray
from hotdeals.bandit.checks import check_number
from hotdeals.bandit.errors import InvalidArmsError, InvalidParameterError

__all__ = [
    "BUDGET_ELEMENTS",
    "REFINED_BUDGET",
    "ArmStatistics",
    "Screen",
    "arm_statistics",
    "arm_statistics_batch",
    "credible_interval",
    "draw_statistics",
    "plausible_top",
    "posterior_mean",
    "prob_best_two_exact",
]

# Floats per Monte Carlo chunk: two (chunk, arms) float64 matrices of 16 MB each, plus smaller
# temporaries, keep the peak near 50 MB however many arms and draws are asked for.
_CHUNK_ELEMENTS = 2_000_000
# Draws x plausible arms of one call at ~40 ns each: ~16 ms; ~80 ms where a decision hangs on it.
BUDGET_ELEMENTS, REFINED_BUDGET = 400_000, 2_000_000
_MIN_DRAWS = 100
# The screening's lower quantile and total upper tail: together they bound the P(best) it can
# misplace (0.0011), a third of the Monte Carlo error of 20,000 draws.
_SCREEN_QUANTILE = 1e-4
_SCREEN_TAIL = 1e-3


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
    """Per-arm summary of the posteriors, index ``i`` describing arm ``i`` of the input; the
    last four fields say how far to trust ``prob_best`` and ``expected_loss``."""

    mean: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    prob_best: FloatArray
    expected_loss: FloatArray
    draws: int = 0
    """Monte Carlo draws behind ``prob_best`` and ``expected_loss``."""
    plausible: int = 0
    """Arms in the Monte Carlo; the others were screened out (``prob_best`` 0)."""
    screening_bound: float = 0.0
    """Bound on the P(best) mass the screening misplaced: total, so also each arm's error."""
    loss_bound: float = 0.0
    """Bound on how much the screening makes every ``expected_loss`` too small."""

    @property
    def prob_best_se(self) -> FloatArray:
        """Each ``prob_best``'s Monte Carlo standard error, ``sqrt(p (1 - p) / draws)``."""
        p = self.prob_best
        se: FloatArray = np.sqrt(p * (1.0 - p) / max(self.draws, 1))
        return se


def arm_statistics(
    alpha: ArrayLike,
    beta: ArrayLike,
    rng: np.random.Generator,
    draws: int = 20_000,
    level: float = 0.95,
    budget: int = BUDGET_ELEMENTS,
) -> ArmStatistics:
    """All dashboard statistics, from one Monte Carlo matrix of the plausible arms' posteriors.

    ``prob_best[i]`` is the share of draws in which arm ``i`` has the highest sample (one arm
    on an exact tie, so the shares always sum to 1) and ``expected_loss[i]`` the mean of
    ``max_j theta_j - theta_i``. Only the arms :func:`plausible_top` keeps are drawn: the others
    get P(best) 0 and the loss ``E[max] - mean_i`` (linearity of expectation, so exact up to
    ``E[max]``). The screening changes each P(best) by at most ``screening_bound`` (< 0.0011)
    and makes every loss smaller by at most ``loss_bound``; both are 0 unless one deal clearly
    leads some others. The draws are ``min(draws, budget / plausible arms)``, at least
    ``_MIN_DRAWS``: by default all 20,000 up to 20 plausible arms, 400 at 1,000, so the Monte
    Carlo error ``sqrt(p (1 - p) / draws)`` (:attr:`ArmStatistics.prob_best_se`) is at most
    0.0035 up to 20 and 0.0016 for ``p = 1/1,000`` among 1,000 (near a threshold a caller asks
    :data:`REFINED_BUDGET`). The same ``rng`` state gives the same figures.
    """
    draws = check_number(draws, "draws", low=1, integer=True)
    a, b = _posterior_parameters(alpha, beta)
    if a.ndim != 1:
        raise InvalidArmsError(f"alpha and beta must be one-dimensional, got shape {a.shape}")
    low, high = credible_interval(a, b, level)
    mean: FloatArray = a / (a + b)
    arms = len(a)
    if arms == 0:
        return ArmStatistics(mean, low, high, np.zeros(0), np.zeros(0))
    screen = plausible_top(a, b)
    kept = np.flatnonzero(screen.keep)
    kept = kept[np.argsort(~_fresh(a[kept], b[kept]), kind="stable")]  # as _beta_draws needs
    draws = min(draws, max(_MIN_DRAWS, budget // len(kept)))
    wins = np.zeros(len(kept), dtype=np.int64)
    loss_sum = np.zeros(len(kept), dtype=np.float64)
    top_sum = 0.0
    chunk = max(1, _CHUNK_ELEMENTS // len(kept))
    for start in range(0, draws, chunk):
        rows = min(chunk, draws - start)
        theta = _beta_draws(rng, a[kept], b[kept], rows)
        best = np.argmax(theta, axis=1)
        top = theta[np.arange(rows), best]
        wins += np.bincount(best, minlength=len(kept))
        loss_sum += (top[:, np.newaxis] - theta).sum(axis=0)
        top_sum += float(top.sum())
    prob_best = np.zeros(arms, dtype=np.float64)
    prob_best[kept] = wins / float(draws)
    # E[max_j theta_j] - mean_i for the screened-out arms; never below 0, which E[max] is not.
    expected_loss = np.maximum(top_sum / draws - mean, 0.0)
    expected_loss[kept] = loss_sum / float(draws)
    return ArmStatistics(
        mean=mean,
        ci_low=low,
        ci_high=high,
        prob_best=prob_best,
        expected_loss=expected_loss,
        draws=draws,
        plausible=len(kept),
        screening_bound=screen.prob_bound,
        loss_bound=screen.loss_bound,
    )


@dataclass(frozen=True)
class Screen:
    """Which arms can plausibly be among the best ``slots``, and what leaving out the rest costs."""

    keep: NDArray[np.bool_]
    threshold: float
    """``L``: the ``slots``-th highest lower ``_SCREEN_QUANTILE`` quantile of the arms."""
    prob_bound: float
    """Bound on P(some screened-out arm is among the best ``slots``): 0 if none is."""
    loss_bound: float
    """Bound on ``E[max over all arms] - E[max over the kept ones]``."""


def plausible_top(
    alpha: ArrayLike,
    beta: ArrayLike,
    slots: int = 1,
    quantile: float = _SCREEN_QUANTILE,
    tail: float = _SCREEN_TAIL,
) -> Screen:
    """Screen out the arms that cannot plausibly be among the best ``slots``, with exact bounds.

    ``L`` is the ``slots``-th highest lower ``quantile`` quantile, that of the ``slots``
    reference arms; an arm with ``P(theta_i > L) < tail / arms`` is screened out. If every
    reference arm is above ``L`` and every screened-out one below it, none of the latter is in
    the top ``slots``: by the union bound, one is with probability at most ``sum_ref P(theta_r
    < L) + sum_out P(theta_i > L) <= slots x quantile + tail``, ``prob_bound`` (computed). That
    is all the P(best) the screened-out arms hold, so it bounds each arm's error too (a kept
    arm's P(best) among the kept ones is higher, by that total at most). And ``0 <= max_all -
    max_kept <= (L - theta_r)+ + sum_out (theta_i - L)+`` for any kept ``r``, whose expectations
    have closed forms: ``loss_bound``. ~3 ms for 1,000 arms (vectorised incomplete Betas).
    """
    a, b = _posterior_parameters(alpha, beta)
    arms = len(a)
    keep = np.ones(arms, dtype=bool)
    if arms <= slots:
        return Screen(keep, 0.0, 0.0, 0.0)
    lows = special.betaincinv(a, b, quantile)
    reference = np.argpartition(lows, arms - slots)[arms - slots :]
    threshold = float(lows[reference].min())
    above = special.betaincc(a, b, threshold)
    keep = above >= tail / arms
    keep[reference] = True
    out = ~keep
    if not bool(out.any()):
        return Screen(keep, threshold, 0.0, 0.0)
    cdf, sf, mean = special.betainc, special.betaincc, a / (a + b)
    prob_bound = float(cdf(a[reference], b[reference], threshold).sum() + above[out].sum())
    # E[(theta - L)+] = E[theta 1{theta > L}] - L P(theta > L), the first term being the mean
    # times the Beta(a + 1, b) upper tail at L; E[(L - theta)+] likewise with the lower tails.
    r = reference[np.argmax(lows[reference])]  # any kept arm would do: the best one
    short = threshold * cdf(a[r], b[r], threshold) - mean[r] * cdf(a[r] + 1, b[r], threshold)
    over = mean[out] * sf(a[out] + 1, b[out], threshold) - threshold * above[out]
    loss_bound = float(max(short, 0.0) + np.maximum(over, 0.0).sum())
    return Screen(keep, threshold, prob_bound, loss_bound)


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


def _beta_draws(rng: np.random.Generator, a: FloatArray, b: FloatArray, rows: int) -> FloatArray:
    """(rows, arms) exact Beta draws, fresh deals 4x faster than by ``rng.beta``; the arms that
    :func:`_fresh` marks must come first.

    NumPy draws ``Beta(a, b)`` with both parameters at most 1, a fresh deal's Beta(1, 1), by
    Johnk's rejection loop (~100 ns a draw here); ``X / (X + Y)`` with ``X ~ Gamma(a)`` and ``Y ~
    Gamma(b)`` is the same law (exponentials for 1, ~25 ns), and what NumPy does otherwise.
    """
    fresh = int(_fresh(a, b).sum())
    x = rng.standard_gamma(a[:fresh], size=(rows, fresh))
    x /= x + rng.standard_gamma(b[:fresh], size=x.shape)
    if fresh == len(a):
        return x
    rest = rng.beta(a[fresh:], b[fresh:], size=(rows, len(a) - fresh))
    return np.hstack([x, rest]) if fresh else rest


def _fresh(a: FloatArray, b: FloatArray) -> NDArray[np.bool_]:
    """The arms NumPy draws by Johnk's loop, except below ``a + b = 1``, where both gammas of a
    ratio can underflow to 0."""
    fresh: NDArray[np.bool_] = (a <= 1.0) & (b <= 1.0) & (a + b >= 1.0)
    return fresh


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
