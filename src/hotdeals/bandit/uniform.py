"""The uniform policy: a random order, i.e. the classic A/B(/n) split.

It learns nothing, which is the point: it is the baseline every bandit is compared with, and
a log collected with it is what the offline replay evaluator needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from hotdeals.bandit.arrays import CountArray, FloatArray, IndexArray
from hotdeals.bandit.policy import BatchPolicy, PolicyName
from hotdeals.bandit.ranking import check_k, check_matrices, top_k

__all__ = ["Uniform"]


@dataclass(frozen=True, slots=True)
class Uniform(BatchPolicy):
    """Show ``k`` arms drawn uniformly without replacement, in random order."""

    name: ClassVar[PolicyName] = PolicyName.UNIFORM

    def rank_batch(
        self,
        alpha: FloatArray,
        beta: FloatArray,
        pulls: CountArray,
        successes: CountArray,
        k: int,
        rng: np.random.Generator,
    ) -> IndexArray:
        """Top ``k`` of i.i.d. uniform keys: a uniformly random ordered subset per row."""
        k = check_k(k)
        rows, arms = check_matrices(alpha, beta, pulls, successes)
        return top_k(rng.random((rows, arms)), k)
