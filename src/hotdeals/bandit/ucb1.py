"""UCB1 (Auer, Cesa-Bianchi and Fischer, 2002), the frequentist baseline.

It is deterministic given the counts, which makes it a useful yardstick for Thompson sampling
in simulations; on a live page it would show every customer the same deals until a click moves
an index, which is why it is not the default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from hotdeals.bandit.arrays import CountArray, FloatArray, IndexArray
from hotdeals.bandit.policy import BatchPolicy, PolicyName
from hotdeals.bandit.ranking import check_k, check_matrices, top_k_random_ties

__all__ = ["UCB1"]


@dataclass(frozen=True, slots=True)
class UCB1(BatchPolicy):
    """Rank by ``mean + sqrt(2 ln(total pulls) / pulls)``; arms never pulled come first.

    An unpulled arm's index is infinite so that a deal added mid-campaign is tried at once
    instead of being starved by arms with a head start. Ties (all fresh arms, equal counts) are
    broken at random so that the arm listed first gets no advantage.
    """

    name: ClassVar[PolicyName] = PolicyName.UCB1

    def rank_batch(
        self,
        alpha: FloatArray,
        beta: FloatArray,
        pulls: CountArray,
        successes: CountArray,
        k: int,
        rng: np.random.Generator,
    ) -> IndexArray:
        """One ranking per row from the raw counts; the posteriors are not used."""
        k = check_k(k)
        check_matrices(alpha, beta, pulls, successes)
        pulled = pulls > 0
        safe_pulls = np.maximum(pulls, 1).astype(np.float64)
        log_total = np.log(np.maximum(pulls.sum(axis=1, keepdims=True), 1))
        index = successes / safe_pulls + np.sqrt(2.0 * log_total / safe_pulls)
        return top_k_random_ties(np.where(pulled, index, np.inf), k, rng)
