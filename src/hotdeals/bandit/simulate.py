"""Simulated campaigns with known click rates, to compare policies before trusting one.

Regret (clicks lost against always showing the truly best deals) can only be measured when the
true rates are known, i.e. in simulation. All seeds run side by side as rows of (seeds, arms)
matrices, so each simulated step costs a handful of NumPy calls whatever the number of seeds;
the only Python loop is over the steps, because each step depends on the previous one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from hotdeals.bandit.arrays import CountArray, FloatArray, as_count_vector, as_float_vector
from hotdeals.bandit.checks import check_number
from hotdeals.bandit.errors import InvalidParameterError
from hotdeals.bandit.policy import Policy

__all__ = ["SimulationResult", "simulate"]

_CHECKPOINTS = 200
# Steps whose click uniforms are drawn at once: one RNG call per block instead of per step.
_BLOCK = 1024


@dataclass(frozen=True)
class SimulationResult:
    """Regret curves and allocation of one policy, one row per seed.

    Only ~200 checkpoints of the regret curve are kept: enough to draw it, and the memory does
    not grow with the horizon.
    """

    checkpoints: CountArray
    """Number of steps done at each checkpoint, increasing, the last one being the horizon."""
    cumulative_regret: FloatArray
    """(seeds, checkpoints): expected clicks lost so far, against the k best arms."""
    final_regret: FloatArray
    """(seeds,): cumulative regret at the horizon."""
    best_arm_share: FloatArray
    """(seeds,): share of all impressions that went to the arm with the highest true rate."""
    pulls: CountArray
    """(seeds, arms): impressions per arm at the end."""


def simulate(
    policy: Policy,
    true_rates: Sequence[float],
    horizon: int,
    seeds: Sequence[int],
    k: int = 1,
    batch: int = 1,
    progress: Callable[[int], None] | None = None,
) -> SimulationResult:
    """Run ``policy`` for ``horizon`` steps on arms with Bernoulli click rates ``true_rates``.

    Each step every seed shows ``min(k, arms)`` arms, chosen from its current posterior (uniform
    prior); posteriors are updated every ``batch`` steps only, as a busy server that reads
    cached counters would. Regret per step is the sum over slots of (i-th best true rate - true
    rate of the arm in slot i): the expected clicks lost, which is less noisy than counting the
    clicks themselves. One generator is seeded from the whole ``seeds`` list (a SeedSequence), so
    the same list reproduces the same result. ``progress`` receives the number of steps done,
    about every thousand steps, e.g. to drive a progress bar.
    """
    rates = as_float_vector(true_rates, "true_rates", InvalidParameterError)
    if len(rates) == 0:
        raise InvalidParameterError("true_rates must name at least one arm")
    if not bool(np.all((rates >= 0.0) & (rates <= 1.0))):
        raise InvalidParameterError(f"true_rates must be in [0, 1], got {rates.tolist()}")
    horizon = check_number(horizon, "horizon", low=1, integer=True)
    k = check_number(k, "k", low=1, integer=True)
    batch = check_number(batch, "batch", low=1, integer=True)
    seed_list = _check_seeds(seeds)
    rng = np.random.default_rng(seed_list)

    n_seeds, arms = len(seed_list), len(rates)
    slots = min(k, arms)
    best_rates_total = float(np.sort(rates)[::-1][:slots].sum())
    row = np.arange(n_seeds)[:, np.newaxis]

    pulls = np.zeros((n_seeds, arms), dtype=np.int64)
    successes = np.zeros((n_seeds, arms), dtype=np.int64)
    # What the policy sees: the live counts, or with batch > 1 a snapshot that lags behind.
    seen_pulls = pulls if batch == 1 else pulls.copy()
    seen_successes = successes if batch == 1 else successes.copy()
    alpha = np.ones((n_seeds, arms), dtype=np.float64)
    beta = np.ones((n_seeds, arms), dtype=np.float64)

    checkpoints = np.unique(
        np.round(np.linspace(1, horizon, min(_CHECKPOINTS, horizon))).astype(np.int64)
    )
    curve = np.empty((n_seeds, len(checkpoints)), dtype=np.float64)
    regret_so_far = np.zeros(n_seeds, dtype=np.float64)
    shown_rates_block = np.empty((_BLOCK, n_seeds), dtype=np.float64)

    for block_start in range(0, horizon, _BLOCK):
        block_steps = min(_BLOCK, horizon - block_start)
        uniforms = rng.random((block_steps, n_seeds, slots))
        for offset in range(block_steps):
            shown = policy.rank_batch(alpha, beta, seen_pulls, seen_successes, k, rng)
            shown_rates = rates[shown]
            clicks = uniforms[offset] < shown_rates
            shown_rates_block[offset] = shown_rates.sum(axis=1)
            pulls[row, shown] += 1
            successes[row, shown] += clicks
            if (block_start + offset + 1) % batch == 0:
                if batch > 1:
                    seen_pulls, seen_successes = pulls.copy(), successes.copy()
                np.add(successes, 1.0, out=alpha)
                np.subtract(pulls, successes, out=beta)
                beta += 1.0
        block_regret = regret_so_far[:, np.newaxis] + np.cumsum(
            best_rates_total - shown_rates_block[:block_steps].T, axis=1
        )
        in_block = (checkpoints > block_start) & (checkpoints <= block_start + block_steps)
        curve[:, in_block] = block_regret[:, checkpoints[in_block] - block_start - 1]
        regret_so_far = block_regret[:, -1]
        if progress is not None:
            progress(block_start + block_steps)

    best_arm = int(np.argmax(rates))
    return SimulationResult(
        checkpoints=checkpoints,
        cumulative_regret=curve,
        final_regret=regret_so_far.copy(),
        best_arm_share=pulls[:, best_arm] / pulls.sum(axis=1),
        pulls=pulls,
    )


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    if isinstance(seeds, str | bytes):
        raise InvalidParameterError(f"seeds must be a sequence of integers, got {seeds!r}")
    values = as_count_vector(list(seeds), "seeds", InvalidParameterError)
    if len(values) == 0:
        raise InvalidParameterError("seeds must hold at least one seed")
    if bool((values < 0).any()):
        raise InvalidParameterError(f"seeds must be >= 0, got {values.tolist()}")
    return [int(seed) for seed in values]
