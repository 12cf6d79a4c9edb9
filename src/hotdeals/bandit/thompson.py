"""Thompson sampling, the service's default policy.

Ranking by one draw from each arm's posterior shows every deal with the probability that it is
the best one: promising but uncertain deals still get impressions, and clear losers fade out on
their own, with no tuning parameter to get wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from hotdeals.bandit.arrays import CountArray, FloatArray, IndexArray
from hotdeals.bandit.policy import BatchPolicy, PolicyName
from hotdeals.bandit.ranking import check_k, check_matrices, top_k

__all__ = ["ThompsonSampling"]


@dataclass(frozen=True, slots=True)
class ThompsonSampling(BatchPolicy):
    """Sample ``theta ~ Beta(alpha, beta)`` per arm and rank by the samples, highest first."""

    name: ClassVar[PolicyName] = PolicyName.THOMPSON

    def rank_batch(
        self,
        alpha: FloatArray,
        beta: FloatArray,
        pulls: CountArray,
        successes: CountArray,
        k: int,
        rng: np.random.Generator,
    ) -> IndexArray:
        """One independent ranking per row; the samples are continuous, so ties do not occur."""
        k = check_k(k)
        check_matrices(alpha, beta, pulls, successes)
        return top_k(rng.beta(alpha, beta), k)
