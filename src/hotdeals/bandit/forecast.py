"""How many more impressions until the winner rule fires, by simulating the campaign forward.

The forecast answers "when will we know?" with the campaign's own uncertainty: it does not
assume the current estimates are the truth, it draws the truth from the posteriors.

Method, per path (all paths at once, as (draws, paths, arms) arrays):

1. Draw "true" CTRs from the current posteriors: each path is a world consistent with the
   data so far.
2. Run the campaign forward in geometrically growing blocks of ``_GROWTH`` (20%) of the
   impressions so far, at least ``_MIN_BLOCK`` (100), until ``horizon`` further impressions.
   Within a block Thompson sampling is replaced by its allocation: each arm gets the
   probability that it is drawn in the top ``k``, estimated from the same Monte Carlo draws
   that test the rule (for ``k = 1`` that is P(best)); pulls ~ multinomial(block, allocation),
   clicks ~ binomial(pulls, true CTR), posteriors updated.
3. Check the rule after every block. A path decides at the end of the first block where the
   rule fires, so the figures are late by at most one block (20%); that resolution is well
   inside the spread between paths (the 90th percentile is often 5-10x the median).

The median and 90th percentile count an undecided path as "later than the horizon", so they
exist only when at least half (resp. 90%) of the paths decided. A campaign that the rule already
names forecasts 0.

Cost: each block needs (draws, paths, arms) posterior draws, 320,000 for 10 deals, 32 paths and
1,000 draws; exact Beta draws took 18-27 ms for those here, ~40 blocks reach a horizon of
1,000,000, over the 0.5 s budget. So each gamma of the Beta ratio is the Wilson-Hilferty cube
``d (1 + z / sqrt(9 d))^3`` with ``d = shape - 1/3`` (Marsaglia and Tsang's proposal without its
rejection step); its total-variation distance to the gamma is 0.032 at shape 1 and falls like
0.02 / shape (0.008 at 3, 0.002 at 10: by quadrature), and shapes below 3 are drawn exactly.
The standard normals ``z`` are drawn once per path and reused by every block (2.5 ms a block
instead of 18+): a path's Monte Carlo error then drifts with its posteriors instead of being
redrawn at every check, which, if anything, makes spurious early firings rarer. Against fresh
exact draws the forecasts agree within sampling noise (``tests/bandit/test_forecast.py``).

Many deals. Deals that cannot plausibly reach the top ``k`` now
(:func:`~hotdeals.bandit.stats.plausible_top`) are left out: Thompson sampling would show them
at most ``k x 1e-4 + 1e-3`` of the next impressions in all, the rule reads P(best) among the
others, too high by at most as much, and the worlds where one of them is truly best, as rare,
are not simulated. The work (draws x paths x deals x checks) is capped at 16M elements, ~0.3 s
for large shapes and ~0.6 s at 1,000 fresh deals (small shapes, drawn exactly): first the draws
per check go down to 50, then the paths to 8. Fewer draws make each check noisier, and a noisy
check fires early (a leader with P(best) 0.9 passes 0.95 on 50 draws with probability 0.11 at
each check, on 1,000 almost never), so the forecast leans early; fewer paths coarsen the
quantiles (the 90th percentile of 8 paths is their largest). 1,000 deals that can all win get
50 draws and 8 paths at 100,000 impressions (36 checks), 21 paths at 10x the traffic so far
from 2M (15 checks); 100 deals get 138 and 333 draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hotdeals.bandit.arrays import FloatArray, as_count_vector, as_float_vector
from hotdeals.bandit.checks import check_number
from hotdeals.bandit.errors import InvalidArmsError
from hotdeals.bandit.stats import draw_statistics, plausible_top
from hotdeals.bandit.winner import WinnerRule

__all__ = ["Forecast", "forecast_decision"]

_GROWTH = 0.2
_MIN_BLOCK = 100
_DEFAULT_MIN_HORIZON = 100_000
_DEFAULT_HORIZON_FACTOR = 10
# Gamma shapes drawn exactly rather than by the Wilson-Hilferty cube (see the module docstring).
_EXACT_BELOW = 3.0
_TINY = 1e-30
# Bound on draws x paths x arms: the sampler keeps five arrays of that size (80 MB at most).
_MAX_ELEMENTS = 2_000_000
# Bound on draws x paths x arms x checks, the forecast's time (module docstring), unless the
# floors of the draws and the paths need more: beyond ~1,000 plausible deals.
_MAX_TOTAL_ELEMENTS = 16_000_000
_MIN_DRAWS = 50
_MIN_PATHS = 8


@dataclass(frozen=True)
class Forecast:
    """Further impressions until the rule fires, over the simulated paths."""

    median: float | None
    """Median over the paths; None when fewer than half of them decided within the horizon."""
    p90: float | None
    """90th percentile; None when fewer than 90% of the paths decided."""
    decided_share: float
    """Share of the paths on which the rule fired within the horizon."""
    horizon: int
    """Further impressions simulated per path."""
    paths: int


def forecast_decision(
    alpha: ArrayLike,
    beta: ArrayLike,
    pulls: ArrayLike,
    rule: WinnerRule,
    rng: np.random.Generator,
    *,
    k: int = 1,
    paths: int = 32,
    horizon: int | None = None,
    draws: int = 1000,
) -> Forecast:
    """Forecast when ``rule`` names a winner, for deals with posteriors ``Beta(alpha, beta)``.

    ``pulls`` are each deal's impressions so far (for the rule's floor and the block sizes), ``k``
    the slots of a rank. ``horizon`` defaults to ``max(100_000, 10 x impressions so far)``. See
    the module docstring for the method and its cost: 10 deals, 32 paths and a horizon of
    1,000,000 take 0.1-0.3 s on two cores (the service still caches it). With many deals the
    draws per check, then the paths, go down (``paths`` in the result says how many ran).
    """
    a = as_float_vector(alpha, "alpha")
    b = as_float_vector(beta, "beta")
    n = as_count_vector(pulls, "pulls")
    if not len(a) == len(b) == len(n):
        raise InvalidArmsError(
            f"alpha, beta and pulls must have one length, got {len(a)}, {len(b)} and {len(n)}"
        )
    if len(a) == 0:
        raise InvalidArmsError("a forecast needs at least one arm")
    if not bool(np.all(np.isfinite(a) & (a > 0) & np.isfinite(b) & (b > 0))):
        raise InvalidArmsError("alpha and beta must be finite and > 0")
    if bool((n < 0).any()):
        raise InvalidArmsError(f"pulls must be >= 0, got {n.tolist()}")
    slots = min(check_number(k, "k", low=1, integer=True), len(a))
    paths = check_number(paths, "paths", low=1, integer=True)
    draws = check_number(draws, "draws", low=1, integer=True)
    so_far = int(n.sum())
    if horizon is None:
        horizon = max(_DEFAULT_MIN_HORIZON, _DEFAULT_HORIZON_FACTOR * so_far)
    horizon = check_number(horizon, "horizon", low=1, integer=True)
    keep = plausible_top(a, b, slots).keep  # the deals that can plausibly reach the top slots
    a, b, n = a[keep], b[keep], n[keep]
    draws, paths = _sizes(draws, paths, len(a), _checks(so_far, horizon))

    theta = _PosteriorDraws(rng, draws, 1, len(a))(a[np.newaxis], b[np.newaxis])
    fired, allocation = _check(rule, theta, a[np.newaxis], b[np.newaxis], n[np.newaxis], slots)
    if fired[0]:
        return Forecast(median=0.0, p90=0.0, decided_share=1.0, horizon=horizon, paths=paths)
    allocation = np.repeat(allocation, paths, axis=0)

    truth = rng.beta(a, b, size=(paths, len(a)))
    posterior_draws = _PosteriorDraws(rng, draws, paths, len(a))
    post_a, post_b = np.tile(a, (paths, 1)), np.tile(b, (paths, 1))
    seen = np.tile(n.astype(np.float64), (paths, 1))
    decided_at = np.full(paths, np.inf)
    live = np.arange(paths)  # the paths still undecided, simulated further
    done = 0
    while live.size and done < horizon:
        block = min(max(_MIN_BLOCK, math.ceil(_GROWTH * (so_far + done))), horizon - done)
        shown = rng.multinomial(block, allocation)
        clicks = rng.binomial(shown, truth[live])
        post_a[live] += clicks
        post_b[live] += shown - clicks
        seen[live] += shown
        done += block
        theta = posterior_draws(post_a[live], post_b[live])
        fired, allocation = _check(rule, theta, post_a[live], post_b[live], seen[live], slots)
        decided_at[live[fired]] = done
        if bool(fired.any()):
            live, allocation = live[~fired], allocation[~fired]
            posterior_draws.keep(~fired)

    median, p90 = (_quantile(decided_at, q) for q in (0.5, 0.9))
    decided_share = float(np.isfinite(decided_at).mean())
    return Forecast(median, p90, decided_share=decided_share, horizon=horizon, paths=paths)


def _checks(so_far: int, horizon: int) -> int:
    """How often the rule is checked on a path that never decides: the blocks, and once now."""
    done, checks = 0, 1
    while done < horizon:
        done += min(max(_MIN_BLOCK, math.ceil(_GROWTH * (so_far + done))), horizon - done)
        checks += 1
    return checks


def _sizes(draws: int, paths: int, arms: int, checks: int) -> tuple[int, int]:
    """Draws per check and paths: ``_MAX_TOTAL_ELEMENTS`` in all, by fewer draws down to
    ``_MIN_DRAWS`` and then fewer paths down to ``_MIN_PATHS``; ``_MAX_ELEMENTS`` a check."""
    room = max(1, _MAX_TOTAL_ELEMENTS // (checks * arms))  # draws x paths
    draws = min(draws, max(room // paths, _MIN_DRAWS))
    paths = min(paths, max(room // draws, _MIN_PATHS))
    return max(1, min(draws, _MAX_ELEMENTS // (paths * arms))), paths


def _check(
    rule: WinnerRule,
    theta: FloatArray,
    a: FloatArray,
    b: FloatArray,
    seen: ArrayLike,
    slots: int,
) -> tuple[NDArray[np.bool_], FloatArray]:
    """Whether the rule fires on each row, and the rows' next allocation, from one set of draws.

    Thompson sampling shows the ``slots`` highest draws, so an arm's share of the impressions
    is its probability of being in the top ``slots`` (P(best) for one slot), divided by
    ``slots`` so that each row sums to 1.
    """
    prob_best, expected_loss = draw_statistics(theta)
    fired = rule.decide_batch(prob_best, expected_loss, a / (a + b), seen) >= 0
    if slots == 1:
        return fired, prob_best
    arms = theta.shape[2]
    cut = np.partition(theta, arms - slots, axis=2)[:, :, arms - slots : arms - slots + 1]
    shown = (theta >= cut).sum(axis=0)
    # Ties at the cut could show more than ``slots`` arms in a draw: normalise the rows.
    allocation: FloatArray = shown / shown.sum(axis=1, keepdims=True)
    return fired, allocation


class _PosteriorDraws:
    """(draws, S, A) approximate Beta(a, b) draws: the ratio of two Wilson-Hilferty gammas.

    The standard normals behind the draws are made once per row (path) and reused at every
    block, and the results go to buffers allocated once: at this size fresh arrays cost as much
    in page faults as the arithmetic. A result is only valid until the next call.
    """

    def __init__(self, rng: np.random.Generator, draws: int, rows: int, arms: int) -> None:
        self._rng = rng
        self._normals = rng.standard_normal((2, draws, rows, arms))
        self._work = np.empty((3, draws * rows * arms))

    def keep(self, rows: NDArray[np.bool_]) -> None:
        """Keep the normals of these rows only: the paths still simulated."""
        self._normals = np.ascontiguousarray(self._normals[:, :, rows])

    def __call__(self, a: FloatArray, b: FloatArray) -> FloatArray:
        shape = self._normals.shape[1:]
        size = math.prod(shape)
        x, y, square = (work[:size].reshape(shape) for work in self._work)
        self._gamma(a, self._normals[0], x, square)
        self._gamma(b, self._normals[1], y, square)
        y += x
        x /= y
        return x

    def _gamma(
        self, shape: FloatArray, normals: FloatArray, out: FloatArray, square: FloatArray
    ) -> None:
        d = shape - 1.0 / 3.0
        with np.errstate(invalid="ignore", divide="ignore"):  # d <= 0 is drawn exactly below
            c = 1.0 / np.sqrt(9.0 * d)
        np.multiply(normals, c, out=out)
        out += 1.0
        # The cube root of a gamma is positive; the floor also keeps x + y > 0 in the ratio.
        np.maximum(out, _TINY, out=out)
        np.multiply(out, out, out=square)
        out *= square
        out *= d
        small = shape < _EXACT_BELOW
        if bool(small.any()):
            # Every element drawn exactly (shape 1, an exponential, where the cube is kept) and
            # copied where small: a masked copy, not a scatter through a fancy index (4x slower).
            exact = np.where(small, shape, 1.0)
            self._rng.standard_gamma(exact, size=out.shape, out=square)
            np.copyto(out, square, where=small)


def _quantile(values: FloatArray, q: float) -> float | None:
    """The ``q`` quantile (the smallest value with at least ``q`` of the paths at or below)."""
    value = float(np.quantile(values, q, method="inverted_cdf"))
    return value if math.isfinite(value) else None
