"""Simulated deal weeks: arms that retire, drift and arrive, against the best arm alive.

The stationary simulator (:mod:`hotdeals.bandit.simulate`) is kept as it is, because its figures
are quoted across the docs; this one adds what changes over a week (a :class:`DealWeeks`) with
the same layout: all seeds side by side as rows of (seeds, arms) matrices, one Python loop over
the steps, uniforms drawn a block at a time. Regret is counted each step against the best arms
alive at that step, so churn and drift are charged to the policy only for what it could have won.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hotdeals.bandit.arrays import CountArray, FloatArray, IndexArray
from hotdeals.bandit.checks import check_number
from hotdeals.bandit.deal_weeks import DealWeeks
from hotdeals.bandit.errors import InvalidParameterError
from hotdeals.bandit.forgetting import decay
from hotdeals.bandit.policy import Policy
from hotdeals.bandit.priors import NewDealPrior, empirical_prior_batch
from hotdeals.bandit.simulate import (  # the same validation
    Observer,
    SimulationResult,
    _check_examination,
    _check_seeds,
)

__all__ = ["WeeksResult", "simulate_weeks"]

ArrayT = TypeVar("ArrayT", bound=NDArray[Any])

_BLOCK = 1024


@dataclass(frozen=True)
class WeeksResult(SimulationResult):
    """:class:`SimulationResult` of a deal week, where an arm is a column that deals pass through.

    ``pulls`` counts every deal that held the column; ``best_arm_share`` is the share of
    impressions that went to the best arm alive at the time.
    """

    shown_curve: CountArray | None = None
    """(seeds, checkpoints, arms): cumulative impressions per column at each checkpoint."""
    replacements: CountArray | None = None
    """(seeds,): how many arms retired (and were replaced) in each seed."""
    final_rates: FloatArray | None = None
    """(seeds, arms): the true rates at the end."""


def simulate_weeks(
    policy: Policy,
    true_rates: ArrayLike,
    horizon: int,
    seeds: Sequence[int],
    weeks: DealWeeks | None = None,
    *,
    k: int = 1,
    delay: int = 1,
    examination: Sequence[float] | None = None,
    progress: Callable[[int], None] | None = None,
    observe: Observer | None = None,
    checkpoints: int = 200,
) -> WeeksResult:
    """Run ``policy`` for ``horizon`` steps in the world ``weeks`` describes.

    ``true_rates`` gives the starting rates: one list for every seed, or a (seeds, arms) matrix.
    Each step, before ranking: drifts due now apply, then each seed retires an arm with
    probability ``retire_prob``. The policy sees ``Beta(prior + clicks, prior + failures)``, all
    time or discounted with ``half_life`` steps, refreshed every ``delay`` steps (the feedback
    of a batch arrives at once; a new arm is known at once). ``examination``, ``progress`` and
    ``observe`` are as in :func:`hotdeals.bandit.simulate`; ``checkpoints`` is how many points
    of the curves to keep. UCB1 reads raw counts of the current deal: it forgets at churn only.
    """
    weeks = DealWeeks() if weeks is None else weeks
    seed_list = _check_seeds(seeds)
    horizon = check_number(horizon, "horizon", low=1, integer=True)
    k = check_number(k, "k", low=1, integer=True)
    delay = check_number(delay, "delay", low=1, integer=True)
    points = check_number(checkpoints, "checkpoints", low=1, integer=True)
    rates = _start_rates(true_rates, len(seed_list))
    weeks.check_against(rates.shape[1], horizon)
    world = _World(weeks, rates, _check_examination(examination, k), min(k, rates.shape[1]), delay)
    rng = np.random.default_rng(seed_list)
    steps_at = np.unique(np.round(np.linspace(1, horizon, min(points, horizon))).astype(np.int64))
    curve = np.empty((len(seed_list), len(steps_at)), dtype=np.float64)
    shown_curve = np.empty((len(seed_list), len(steps_at), rates.shape[1]), dtype=np.int64)
    regret_so_far = np.zeros(len(seed_list))
    regret_block = np.empty((_BLOCK, len(seed_list)))
    next_point = 0
    for start in range(0, horizon, _BLOCK):
        steps = min(_BLOCK, horizon - start)
        uniforms = rng.random((steps, len(seed_list), world.slots)) / world.factors
        retiring = rng.random((steps, len(seed_list))) < weeks.retire_prob
        for offset in range(steps):
            done = start + offset
            world.before_step(done, retiring[offset], rng)
            shown = policy.rank_batch(
                world.alpha, world.beta, world.seen_pulls, world.seen_successes, k, rng
            )
            regret_block[offset] = world.step(done, shown, uniforms[offset])
            if next_point < len(steps_at) and done + 1 == steps_at[next_point]:
                shown_curve[:, next_point] = world.column_shown
                if observe is not None:
                    observe(done + 1, *world.views())
                next_point += 1
        block = regret_so_far[:, np.newaxis] + np.cumsum(regret_block[:steps].T, axis=1)
        inside = (steps_at > start) & (steps_at <= start + steps)
        curve[:, inside] = block[:, steps_at[inside] - start - 1]
        regret_so_far = block[:, -1]
        if progress is not None:
            progress(start + steps)
    return WeeksResult(
        checkpoints=steps_at,
        cumulative_regret=curve,
        final_regret=regret_so_far.copy(),
        best_arm_share=world.best_hits / (horizon * world.slots),
        pulls=world.column_shown.copy(),
        shown_curve=shown_curve,
        replacements=world.replacements,
        final_rates=world.rates,
    )


class _World:
    """The live state of every seed: true rates, counters, priors and what the policy sees."""

    def __init__(
        self,
        weeks: DealWeeks,
        rates: FloatArray,
        examined: FloatArray | None,
        slots: int,
        delay: int,
    ) -> None:
        seeds, arms = rates.shape
        self.weeks, self.rates, self.slots, self.delay = weeks, rates, slots, delay
        self.factors = np.ones(slots) if examined is None else examined[:slots]
        self.row = np.arange(seeds)[:, np.newaxis]
        self.pulls = np.zeros((seeds, arms), dtype=np.int64)
        self.successes = np.zeros((seeds, arms), dtype=np.int64)
        # With a delay the policy sees snapshots of the counters, not the live ones.
        self.delay_copies = delay > 1
        self.seen_pulls = self.pulls.copy() if self.delay_copies else self.pulls
        self.seen_successes = self.successes.copy() if self.delay_copies else self.successes
        self.prior_alpha = np.full((seeds, arms), weeks.campaign_prior[0])
        self.prior_beta = np.full((seeds, arms), weeks.campaign_prior[1])
        self.alpha, self.beta = self.prior_alpha.copy(), self.prior_beta.copy()
        self.forgetting = weeks.half_life is not None
        self.keep = decay(1.0, weeks.half_life) if weeks.half_life is not None else 1.0
        self.discounted_n = np.zeros((seeds, arms))
        self.discounted_c = np.zeros((seeds, arms))
        self.fitted: tuple[FloatArray, FloatArray] | None = None
        self.column_shown = np.zeros((seeds, arms), dtype=np.int64)
        self.replacements = np.zeros(seeds, dtype=np.int64)
        self.best_hits = np.zeros(seeds, dtype=np.int64)
        self.drifts_at: dict[int, list[tuple[int, float]]] = {}
        for drift in weeks.drifts:
            self.drifts_at.setdefault(drift.step, []).append((drift.arm, drift.rate))
        self._rebest()

    def before_step(self, done: int, retiring: NDArray[np.bool_], rng: np.random.Generator) -> None:
        """Drifts due at this step, then retirements, then the cached empirical prior's refit."""
        changes = self.drifts_at.get(done)
        if changes:
            for arm, rate in changes:
                self.rates[:, arm] = rate
            self._rebest()
        weeks = self.weeks
        fitting = weeks.prior is NewDealPrior.EMPIRICAL and weeks.retire_prob > 0
        if fitting and done % weeks.prior_refit_every == 0:
            self.fitted = empirical_prior_batch(
                self.seen_successes,
                self.seen_pulls,
                max_strength=weeks.max_strength,
                min_deals=weeks.min_deals,
            )
        if not retiring.any():
            return
        seeds = np.flatnonzero(retiring)
        columns = rng.integers(0, self.rates.shape[1], size=len(seeds))
        self.rates[seeds, columns] = rng.beta(*weeks.new_arm_prior, size=len(seeds))
        self.replacements[seeds] += 1
        for counters in self._counters():
            counters[seeds, columns] = 0
        alpha0 = np.full(len(seeds), weeks.campaign_prior[0])
        beta0 = np.full(len(seeds), weeks.campaign_prior[1])
        if self.fitted is not None:
            fitted_alpha, fitted_beta = self.fitted[0][seeds], self.fitted[1][seeds]
            known = ~np.isnan(fitted_alpha)
            alpha0[known], beta0[known] = fitted_alpha[known], fitted_beta[known]
        self.prior_alpha[seeds, columns], self.prior_beta[seeds, columns] = alpha0, beta0
        self.alpha[seeds, columns], self.beta[seeds, columns] = alpha0, beta0
        self._rebest()

    def step(self, done: int, shown: IndexArray, uniforms: FloatArray) -> FloatArray:
        """Clicks on the ranking ``shown``, counters and posteriors updated; the step's regret."""
        shown_rates = self.rates[self.row, shown]
        clicks = uniforms < shown_rates
        self.pulls[self.row, shown] += 1
        self.successes[self.row, shown] += clicks
        self.column_shown[self.row, shown] += 1
        self.best_hits += (shown == self.best_column[:, np.newaxis]).sum(axis=1)
        if self.forgetting:
            self.discounted_n *= self.keep
            self.discounted_c *= self.keep
            self.discounted_n[self.row, shown] += 1.0
            self.discounted_c[self.row, shown] += clicks
        if (done + 1) % self.delay == 0:
            self._refresh()
        regret: FloatArray = self.best_total - shown_rates @ self.factors
        return regret

    def views(self) -> tuple[FloatArray, FloatArray, CountArray]:
        """Read-only views of what ``observe`` is shown: alpha, beta and the live pulls."""
        return _read_only(self.alpha), _read_only(self.beta), _read_only(self.pulls)

    def _refresh(self) -> None:
        """The feedback arrives: the posteriors the policy samples, as discounted_posteriors."""
        if self.delay_copies:
            np.copyto(self.seen_pulls, self.pulls)
            np.copyto(self.seen_successes, self.successes)
        if self.forgetting:
            np.add(self.prior_alpha, self.discounted_c, out=self.alpha)
            np.subtract(self.discounted_n, self.discounted_c, out=self.beta)
            np.maximum(self.beta, 0.0, out=self.beta)
            self.beta += self.prior_beta
        else:
            np.add(self.prior_alpha, self.successes, out=self.alpha)
            np.subtract(self.pulls, self.successes, out=self.beta)
            self.beta += self.prior_beta

    def _counters(self) -> list[FloatArray | CountArray]:
        return [
            self.pulls,
            self.successes,
            self.seen_pulls,
            self.seen_successes,
            self.discounted_n,
            self.discounted_c,
        ]

    def _rebest(self) -> None:
        ordered = -np.sort(-self.rates, axis=1)[:, : self.slots]
        self.best_total: FloatArray = ordered @ self.factors
        self.best_column = np.argmax(self.rates, axis=1)


def _read_only(array: ArrayT) -> ArrayT:
    view = array.view()
    view.flags.writeable = False
    return view


def _start_rates(true_rates: ArrayLike, seeds: int) -> FloatArray:
    try:
        rates = np.array(true_rates, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"true_rates must be numbers, got {true_rates!r}") from exc
    if rates.ndim == 1:
        rates = np.tile(rates, (seeds, 1))
    if rates.ndim != 2 or rates.shape[0] != seeds or rates.shape[1] == 0:
        raise InvalidParameterError(
            f"true_rates must be one list of rates or one row per seed, got shape {rates.shape}"
        )
    if not bool(np.all((rates >= 0.0) & (rates <= 1.0))):
        raise InvalidParameterError("true_rates must be in [0, 1]")
    return rates
