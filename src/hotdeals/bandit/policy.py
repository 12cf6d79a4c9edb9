"""The policy interface and the lookup from the names stored with a campaign.

Policies are structural (a Protocol) so that tests and simulations can plug in their own ranker
(e.g. a fixed "always this deal" policy for replay checks) without inheriting from anything.
"""

from __future__ import annotations

from typing import Final, Protocol

import numpy as np

from hotdeals.bandit.arms import ArmSet
from hotdeals.bandit.arrays import CountArray, FloatArray, IndexArray
from hotdeals.bandit.epsilon_greedy import EpsilonGreedy
from hotdeals.bandit.errors import UnknownPolicyError
from hotdeals.bandit.thompson import ThompsonSampling
from hotdeals.bandit.ucb1 import UCB1
from hotdeals.bandit.uniform import Uniform

__all__ = ["POLICY_NAMES", "Policy", "make_policy"]

POLICY_NAMES: Final = ("thompson", "ucb1", "epsilon_greedy", "uniform")


class Policy(Protocol):
    """Orders arms for a page with ``k`` slots; all randomness comes from the ``rng`` passed in."""

    def rank(self, arms: ArmSet, k: int, rng: np.random.Generator) -> IndexArray:
        """Distinct indices into ``arms`` of the top ``min(k, len(arms))`` arms, best first.

        Raises ``BanditError`` when ``k < 1``; an empty ArmSet gives an empty array.
        """
        ...

    def rank_batch(
        self,
        alpha: FloatArray,
        beta: FloatArray,
        pulls: CountArray,
        successes: CountArray,
        k: int,
        rng: np.random.Generator,
    ) -> IndexArray:
        """``rank`` for many independent arm sets at once, one per row of (rows, arms) arrays.

        Returns a (rows, min(k, arms)) matrix. It exists so that a simulation of many seeds
        costs one NumPy call per step instead of a Python loop over the seeds. The values are
        trusted (only shapes are checked), as they come from an ArmSet or a simulation.
        """
        ...


def make_policy(name: str, *, epsilon: float = 0.1) -> Policy:
    """The policy a campaign stores by name; ``epsilon`` only matters for ``epsilon_greedy``."""
    if name == "thompson":
        return ThompsonSampling()
    if name == "ucb1":
        return UCB1()
    if name == "epsilon_greedy":
        return EpsilonGreedy(epsilon=epsilon)
    if name == "uniform":
        return Uniform()
    valid = ", ".join(POLICY_NAMES)
    raise UnknownPolicyError(f"unknown policy {name!r}; valid names are: {valid}")
