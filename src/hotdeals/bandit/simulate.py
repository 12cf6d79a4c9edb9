"""Simulated campaigns with known click rates, to compare policies before trusting one.

Regret (clicks lost against always showing the truly best deals) can only be measured when the
true rates are known, i.e. in simulation. All seeds run side by side as rows of (seeds, arms)
matrices, so each simulated step costs a handful of NumPy calls whatever the number of seeds;
the only Python loop is over the steps, because each step depends on the previous one.

Slots can be given examination probabilities (the position-based model: a deal in slot ``p``
is clicked with probability ``rate * e_p``), and the policy can be shown position-corrected
posteriors instead of the plain ones, to measure what the correction is worth.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from hotdeals.bandit.arrays import CountArray, FloatArray, as_count_vector, as_float_vector
from hotdeals.bandit.checks import check_number
from hotdeals.bandit.errors import InvalidParameterError
from hotdeals.bandit.policy import Policy
from hotdeals.bandit.positions import fit_examination_batch

__all__ = ["Observer", "SimulationResult", "simulate"]

Observer = Callable[[int, "FloatArray", "FloatArray", "CountArray"], None]
"""Called as ``observe(steps_done, alpha, beta, pulls)`` with (seeds, arms) arrays."""

ArrayT = TypeVar("ArrayT", bound=NDArray[Any])

_CHECKPOINTS = 200
# Steps whose click uniforms are drawn at once: one RNG call per block instead of per step.
_BLOCK = 1024
# Steps between two refits of the examination probabilities under position correction: a
# server would refit from its (deal, slot) counters on a timer, not on every impression. Each
# refit starts from the previous one and stops at 1e-6 (far below the sampling error): for 100
# seeds of 6 deals it costs about 30 ms, as much as 50 steps.
REFIT_EVERY = 500
_REFIT_TOL = 1e-6


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
    slot_pulls: CountArray | None = None
    """(seeds, arms, slots): impressions per arm and slot at the end; only recorded when the
    simulation has an ``examination`` or a ``position_correction`` (None otherwise)."""
    slot_clicks: CountArray | None = None
    """(seeds, arms, slots): clicks per arm and slot, recorded like ``slot_pulls``."""
    examination_fit: FloatArray | None = None
    """(seeds, slots): each seed's PBM fit of the examination probabilities on its own counters
    at the horizon (``fit_examination``), recorded like ``slot_pulls``. With ``slot_pulls`` and
    ``slot_clicks`` it gives each seed's ``corrected_posteriors`` at the end."""


def simulate(
    policy: Policy,
    true_rates: Sequence[float],
    horizon: int,
    seeds: Sequence[int],
    k: int = 1,
    batch: int = 1,
    progress: Callable[[int], None] | None = None,
    observe: Observer | None = None,
    *,
    examination: Sequence[float] | None = None,
    position_correction: bool = False,
    shuffle_share: float = 0.0,
    known_examination: bool = False,
) -> SimulationResult:
    """Run ``policy`` for ``horizon`` steps on arms with Bernoulli click rates ``true_rates``.

    Each step every seed shows ``min(k, arms)`` arms, chosen from its current posterior (uniform
    prior); posteriors are updated every ``batch`` steps only, as a busy server that reads
    cached counters would. Regret per step is the sum over slots of (i-th best true rate - true
    rate of the arm in slot i): the expected clicks lost, which is less noisy than counting the
    clicks themselves. One generator is seeded from the whole ``seeds`` list (a SeedSequence), so
    the same list reproduces the same result. ``progress`` receives the number of steps done,
    about every thousand steps, e.g. to drive a progress bar. ``observe`` is called at every
    checkpoint with the step count and the live (seeds, arms) posteriors and pulls (read-only
    views: copy what you keep), e.g. to check when a winner rule would fire.

    ``examination`` gives one factor per slot (``k`` of them, in (0, 1], not increasing down
    the page): a deal in slot ``p`` is clicked with probability ``rate * e_p`` and the best
    possible slate expects ``sum_p e_p * (p-th best rate)`` clicks, against which regret is
    counted. ``position_correction`` shows the policy corrected posteriors ``Beta(1 + clicks,
    1 + max(n_eff - clicks, 0))``, with ``n_eff`` the impressions weighted by each seed's own
    PBM fit of the examination, refitted on its (arms, slots) counters every ``REFIT_EVERY``
    steps (plain counting until the first refit). Only policies that read ``alpha``/``beta``
    see the correction (UCB1 reads the raw counts); ``observe`` gets the corrected posteriors.
    Neither option changes the random numbers drawn, so the same seeds give the same clicks.

    Two options measure what a better estimate of the examination would be worth.
    ``shuffle_share`` shows that share of the ranks in a random order (the policy still picks
    the deals), the random-order traffic that pins the examination down; it draws extra random
    numbers, so a run with it is not comparable click for click with one without.
    ``known_examination`` corrects with the true ``examination`` instead of a fit: the oracle,
    the most any estimator of it could give.
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
    examined = _check_examination(examination, k)
    if examined is not None:
        examined = examined[:slots]
    for name, flag in (
        ("position_correction", position_correction),
        ("known_examination", known_examination),
    ):
        if not isinstance(flag, bool):
            raise InvalidParameterError(f"{name} must be true or false, got {flag!r}")
    if known_examination and (examined is None or not position_correction):
        raise InvalidParameterError("known_examination needs an examination to correct with")
    shuffle_share = check_number(shuffle_share, "shuffle_share", low=0, high=1)
    best_rates = np.sort(rates)[::-1][:slots]
    best_rates_total = float(best_rates.sum() if examined is None else best_rates @ examined)
    row = np.arange(n_seeds)[:, np.newaxis]
    positions = (
        _SlotCounters(
            n_seeds, arms, slots, position_correction, examined if known_examination else None
        )
        if examined is not None or position_correction
        else None
    )

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
    next_observed = 0  # index into checkpoints of the next step to show ``observe``
    policy_order = np.arange(slots, dtype=np.float64)  # sort keys that keep the policy's order
    shuffling = shuffle_share > 0
    # The impressions beta counts: the raw ones, or under correction the effective ones.
    correcting = positions is not None and position_correction
    counted = positions.effective_pulls if positions is not None and correcting else pulls

    for block_start in range(0, horizon, _BLOCK):
        block_steps = min(_BLOCK, horizon - block_start)
        uniforms = rng.random((block_steps, n_seeds, slots))
        if examined is not None:
            uniforms /= examined  # u < rate * e_p  <=>  u / e_p < rate: no extra work per step
        if shuffling:
            shuffled = rng.random((block_steps, n_seeds)) < shuffle_share
            keys = rng.random((block_steps, n_seeds, slots))
        for offset in range(block_steps):
            shown = policy.rank_batch(alpha, beta, seen_pulls, seen_successes, k, rng)
            if shuffling:
                in_order = np.where(shuffled[offset, :, np.newaxis], keys[offset], policy_order)
                shown = np.take_along_axis(shown, np.argsort(in_order, axis=1), axis=1)
            shown_rates = rates[shown]
            clicks = uniforms[offset] < shown_rates
            if examined is None:
                shown_rates_block[offset] = shown_rates.sum(axis=1)
            else:
                shown_rates_block[offset] = shown_rates @ examined
            pulls[row, shown] += 1
            successes[row, shown] += clicks
            if positions is not None:
                positions.record(block_start + offset + 1, row, shown, clicks)
            if (block_start + offset + 1) % batch == 0:
                if batch > 1:
                    seen_pulls, seen_successes = pulls.copy(), successes.copy()
                np.add(successes, 1.0, out=alpha)
                np.subtract(counted, successes, out=beta)
                if correcting:
                    np.maximum(beta, 0.0, out=beta)
                beta += 1.0
            if observe is not None and block_start + offset + 1 == checkpoints[next_observed]:
                next_observed = min(next_observed + 1, len(checkpoints) - 1)
                observe(
                    block_start + offset + 1, _read_only(alpha), _read_only(beta), _read_only(pulls)
                )
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
        slot_pulls=None if positions is None else positions.pulls,
        slot_clicks=None if positions is None else positions.clicks,
        examination_fit=None if positions is None else positions.fit(),
    )


class _SlotCounters:
    """Per-seed (arms, slots) counters and, under position correction, the effective pulls.

    The effective pulls are kept up to date on every impression with the current fit (one
    fancy-index add), and rebuilt in place from the counters whenever the fit is renewed.
    """

    def __init__(
        self, seeds: int, arms: int, slots: int, correcting: bool, known: FloatArray | None
    ) -> None:
        self.pulls = np.zeros((seeds, arms, slots), dtype=np.int64)
        self.clicks = np.zeros((seeds, arms, slots), dtype=np.int64)
        self.correcting = correcting
        self.known = known is not None
        self.examination = np.ones((seeds, slots)) * (1.0 if known is None else known)
        self.effective_pulls = np.zeros((seeds, arms), dtype=np.float64)
        self.slot = np.arange(slots)[np.newaxis, :]

    def record(
        self, steps_done: int, row: CountArray, shown: NDArray[np.intp], clicks: NDArray[np.bool_]
    ) -> None:
        """Count one step's impressions and clicks; refit every ``REFIT_EVERY`` steps."""
        self.pulls[row, shown, self.slot] += 1
        self.clicks[row, shown, self.slot] += clicks
        if not self.correcting:
            return
        self.effective_pulls[row, shown] += self.examination
        if steps_done % REFIT_EVERY == 0 and not self.known:
            first = None if steps_done == REFIT_EVERY else self.examination
            self.examination = fit_examination_batch(
                self.pulls, self.clicks, tol=_REFIT_TOL, start=first
            )
            np.einsum("sap,sp->sa", self.pulls, self.examination, out=self.effective_pulls)

    def fit(self) -> FloatArray:
        """(seeds, slots): each seed's PBM examination fit on its counters so far."""
        return fit_examination_batch(self.pulls, self.clicks)


def _read_only(array: ArrayT) -> ArrayT:
    view = array.view()
    view.flags.writeable = False
    return view


def _check_examination(examination: Sequence[float] | None, k: int) -> FloatArray | None:
    if examination is None:
        return None
    if isinstance(examination, str | bytes):
        raise InvalidParameterError(f"examination must be numbers, got {examination!r}")
    e = as_float_vector(examination, "examination", InvalidParameterError)
    if len(e) != k:
        raise InvalidParameterError(
            f"examination must have one value per slot (k = {k}), got {len(e)}"
        )
    if not bool(np.all((e > 0) & (e <= 1))):
        raise InvalidParameterError(f"examination must be in (0, 1], got {e.tolist()}")
    if bool((np.diff(e) > 0).any()):
        raise InvalidParameterError(
            f"examination must not increase from one slot to the next, got {e.tolist()}"
        )
    return e


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    if isinstance(seeds, str | bytes):
        raise InvalidParameterError(f"seeds must be a sequence of integers, got {seeds!r}")
    values = as_count_vector(list(seeds), "seeds", InvalidParameterError)
    if len(values) == 0:
        raise InvalidParameterError("seeds must hold at least one seed")
    if bool((values < 0).any()):
        raise InvalidParameterError(f"seeds must be >= 0, got {values.tolist()}")
    return [int(seed) for seed in values]
