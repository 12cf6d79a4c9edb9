"""Epsilon-greedy: mostly the best-looking deal, sometimes a random one.

Simple to explain to an analyst ("10% of slots are exploration"), but it explores blindly and
forever, so in simulations it sits between UCB1 and Thompson sampling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from hotdeals.bandit.arrays import CountArray, FloatArray, IndexArray
from hotdeals.bandit.checks import check_number
from hotdeals.bandit.policy import BatchPolicy, PolicyName
from hotdeals.bandit.ranking import (
    check_k,
    check_matrices,
    empty_ranking,
    top_k,
    top_k_random_ties,
)

__all__ = ["EpsilonGreedy"]


@dataclass(frozen=True, slots=True)
class EpsilonGreedy(BatchPolicy):
    """Per slot: with probability ``epsilon`` a random remaining arm, else the best remaining one.

    "Best" is the posterior mean ``alpha / (alpha + beta)`` rather than the raw CTR so that an
    arm with one impression and one click does not look like a certain winner.
    """

    epsilon: float = 0.1
    name: ClassVar[PolicyName] = PolicyName.EPSILON_GREEDY

    def __post_init__(self) -> None:
        epsilon = check_number(self.epsilon, "epsilon", low=0, high=1)
        object.__setattr__(self, "epsilon", epsilon)

    def rank_batch(
        self,
        alpha: FloatArray,
        beta: FloatArray,
        pulls: CountArray,
        successes: CountArray,
        k: int,
        rng: np.random.Generator,
    ) -> IndexArray:
        """One ranking per row.

        Only the first ``k`` arms of two orders can ever be picked: the greedy order (by
        posterior mean) and a random order (uniform keys). Taking "the first unused arm of the
        random order" is a uniform draw among the remaining arms, so each slot just takes the
        first unused arm of one order or the other. The loop runs over the ``k`` slots, never
        over the arms.
        """
        k = check_k(k)
        rows, arms = check_matrices(alpha, beta, pulls, successes)
        k = min(k, arms)
        if k == 0:
            return empty_ranking(rows)
        greedy = top_k_random_ties(alpha / (alpha + beta), k, rng)
        explores = rng.random((rows, k)) < self.epsilon
        if not explores.any():
            return greedy
        explore = top_k(rng.random((rows, arms)), k)
        if k == 1:
            return np.where(explores, explore, greedy)
        return _interleave(greedy, explore, explores, arms)


def _interleave(
    greedy: IndexArray, explore: IndexArray, explores: NDArray[np.bool_], arms: int
) -> IndexArray:
    """Slot by slot, the first not-yet-shown arm of the order the slot's coin flip chose."""
    rows, k = greedy.shape
    row = np.arange(rows)
    row_column = row[:, np.newaxis]
    shown = np.zeros((rows, arms), dtype=bool)
    ranking = np.empty((rows, k), dtype=np.intp)
    for slot in range(k):
        next_greedy = greedy[row, np.argmin(shown[row_column, greedy], axis=1)]
        next_explore = explore[row, np.argmin(shown[row_column, explore], axis=1)]
        pick = np.where(explores[:, slot], next_explore, next_greedy)
        ranking[:, slot] = pick
        shown[row, pick] = True
    return ranking
