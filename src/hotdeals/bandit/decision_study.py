"""When a winner rule fires in simulated campaigns, and whether the deal it names is truly best.

A rule is only as good as its two error modes: firing late (the campaign runs on, showing
worse deals) and naming a deal that is not the best. Both can only be measured where the true
rates are known, so this module watches :func:`~hotdeals.bandit.simulate.simulate` through its
``observe`` hook: at each of its ~200 checkpoints the posteriors of all seeds get one batched
Monte Carlo (:func:`~hotdeals.bandit.stats.arm_statistics_batch`), and every rule is checked on
every seed it has not decided yet. Several rules watch the same runs, so their comparison is
paired: same campaigns, same draws. Decision times have the checkpoints' resolution
(``horizon / 200`` steps).

``floor_on_every_deal=True`` requires ``min_impressions`` of every deal rather than of the
leader only. With ``max_relative_loss=0`` it reproduces the rule the service had before this
one, for comparison only: Thompson sampling starves losers, so that rule often never fires.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from hotdeals.bandit.arrays import (
    CountArray,
    FloatArray,
    IndexArray,
    as_count_vector,
    as_float_vector,
)
from hotdeals.bandit.checks import check_number
from hotdeals.bandit.errors import InvalidParameterError
from hotdeals.bandit.policy import Policy
from hotdeals.bandit.simulate import simulate
from hotdeals.bandit.stats import arm_statistics_batch
from hotdeals.bandit.winner import WinnerRule

__all__ = ["Criterion", "RuleStudy", "RuleTracker", "study_generator", "study_winner_rule"]


@dataclass(frozen=True)
class Criterion:
    """One rule as a study applies it: on the leader's impressions, or on every deal's."""

    rule: WinnerRule
    floor_on_every_deal: bool = False


@dataclass(frozen=True)
class RuleStudy:
    """How one rule fared over the seeds of a simulation."""

    criterion: Criterion
    decided_at: CountArray
    """(seeds,): steps done at the first checkpoint where the rule fired, -1 if it never did."""
    winners: IndexArray
    """(seeds,): the deal the rule named, -1 where it never fired."""
    by_loss_only: CountArray
    """(seeds,): 1 where the rule fired on the value-remaining condition alone, else 0."""
    true_rates: FloatArray
    horizon: int

    @property
    def decided_share(self) -> float:
        """Share of the seeds on which the rule fired within the horizon."""
        return float((self.decided_at >= 0).mean())

    @property
    def median_steps(self) -> float | None:
        """Median steps to a decision, an undecided seed counting as later than the horizon.

        None when fewer than half of the seeds decided: the median is then beyond the horizon.
        """
        return self._quantile(0.5)

    @property
    def p90_steps(self) -> float | None:
        """90th percentile of the steps to a decision; None when fewer than 90% decided."""
        return self._quantile(0.9)

    @property
    def wrong_share(self) -> float | None:
        """Share of the named winners whose true rate is below the best; None if none named."""
        named = self.winners[self.winners >= 0]
        if len(named) == 0:
            return None
        return float((self.true_rates[named] < self.true_rates.max()).mean())

    @property
    def mean_relative_shortfall(self) -> float | None:
        """Mean of ``(best rate - winner's rate) / best rate`` over the named winners.

        What ending with the named deal costs in CTR, relative: the quantity the
        value-remaining condition bounds in expectation. None if no winner was named.
        """
        named = self.winners[self.winners >= 0]
        best = float(self.true_rates.max())
        if len(named) == 0 or best == 0.0:
            return None
        return float(((best - self.true_rates[named]) / best).mean())

    @property
    def loss_only_share(self) -> float | None:
        """Share of the decisions made by the value-remaining condition alone."""
        decided = self.decided_at >= 0
        return float(self.by_loss_only[decided].mean()) if bool(decided.any()) else None

    def _quantile(self, q: float) -> float | None:
        steps = np.where(self.decided_at >= 0, self.decided_at, np.inf).astype(np.float64)
        value = float(np.quantile(steps, q, method="inverted_cdf"))
        return value if math.isfinite(value) else None


class RuleTracker:
    """An ``observe`` hook for :func:`simulate` that records when each criterion first fires.

    Seeds that every criterion has decided are left out of the Monte Carlo, so a run gets
    cheaper as its campaigns end. Call :meth:`results` after the simulation.
    """

    def __init__(
        self, criteria: Sequence[Criterion], rng: np.random.Generator, *, draws: int = 2000
    ) -> None:
        """``rng`` draws the posteriors: give it a stream of its own, not the simulation's."""
        self.criteria = list(criteria)
        if not self.criteria:
            raise InvalidParameterError("a study needs at least one rule")
        self.draws = check_number(draws, "draws", low=1, integer=True)
        self._rng = rng
        # (criteria, seeds) arrays, made at the first checkpoint: decision step (-1 while
        # undecided), the named deal, and whether the value-remaining condition alone fired.
        self._state: tuple[CountArray, IndexArray, CountArray] | None = None

    def __call__(self, steps: int, alpha: FloatArray, beta: FloatArray, pulls: CountArray) -> None:
        """Check every criterion on the seeds it has not decided yet."""
        if self._state is None:
            shape = (len(self.criteria), alpha.shape[0])
            self._state = (
                np.full(shape, -1, dtype=np.int64),
                np.full(shape, -1, dtype=np.intp),
                np.zeros(shape, dtype=np.int64),
            )
        decided_at, named, by_loss = self._state
        pending = decided_at < 0
        rows = np.flatnonzero(pending.any(axis=0))
        if rows.size == 0:
            return
        prob_best, loss = arm_statistics_batch(alpha[rows], beta[rows], self._rng, self.draws)
        mean = alpha[rows] / (alpha[rows] + beta[rows])
        seen = pulls[rows]
        leader_best = prob_best.max(axis=1)
        for index, criterion in enumerate(self.criteria):
            rule = criterion.rule
            winners = rule.decide_batch(prob_best, loss, mean, seen)
            if criterion.floor_on_every_deal:
                winners = np.where(seen.min(axis=1) >= rule.min_impressions, winners, -1)
            fresh = (winners >= 0) & pending[index, rows]
            decided_at[index, rows[fresh]] = steps
            named[index, rows[fresh]] = winners[fresh]
            by_loss[index, rows[fresh]] = leader_best[fresh] < rule.min_prob_best

    def results(self, true_rates: ArrayLike, horizon: int) -> list[RuleStudy]:
        """One :class:`RuleStudy` per criterion, in the order given."""
        if self._state is None:
            raise InvalidParameterError("the tracker has not observed a simulation yet")
        decided_at, named, by_loss = self._state
        rates = as_float_vector(true_rates, "true_rates", InvalidParameterError)
        return [
            RuleStudy(
                criterion=criterion,
                decided_at=decided_at[index].copy(),
                winners=named[index].copy(),
                by_loss_only=by_loss[index].copy(),
                true_rates=rates,
                horizon=horizon,
            )
            for index, criterion in enumerate(self.criteria)
        ]


def study_winner_rule(
    policy: Policy,
    true_rates: Sequence[float],
    horizon: int,
    seeds: Sequence[int],
    rules: Sequence[WinnerRule],
    *,
    k: int = 1,
    draws: int = 2000,
    floor_on_every_deal: bool = False,
) -> list[RuleStudy]:
    """Simulate ``policy`` on ``true_rates`` and report, per rule, when it fired and on whom.

    The posterior draws come from a generator seeded apart from the simulation's (same
    ``seeds``, another spawn key), so the campaigns are those of ``simulate(policy, true_rates,
    horizon, seeds, k=k)`` exactly. 100 seeds of 10 deals over 100,000 steps take about a
    minute on two cores; use fewer seeds in tests.
    """
    rng = study_generator(seeds)
    tracker = RuleTracker(
        [Criterion(rule, floor_on_every_deal) for rule in rules], rng, draws=draws
    )
    simulate(policy, true_rates, horizon, seeds, k=k, observe=tracker)
    return tracker.results(true_rates, horizon)


def study_generator(seeds: Sequence[int]) -> np.random.Generator:
    """The posterior draws' generator of a study on ``seeds``: independent of the campaigns'."""
    entropy = as_count_vector(list(seeds), "seeds", InvalidParameterError)
    if len(entropy) == 0 or bool((entropy < 0).any()):
        raise InvalidParameterError(f"seeds must be integers >= 0, got {entropy.tolist()}")
    return np.random.default_rng(np.random.SeedSequence(entropy.tolist(), spawn_key=(1,)))
