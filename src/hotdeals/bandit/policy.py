"""The policy interface: the names a campaign may store, the Protocol, and the shared base class.

Policies are structural (a Protocol) so that tests and simulations can plug in their own ranker
(e.g. a fixed "always this deal" policy for replay checks) without inheriting from anything. The
package's own policies derive from :class:`BatchPolicy`, which writes ``rank`` once in terms of
``rank_batch`` so that a policy only says how it ranks a batch.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from typing import ClassVar, Protocol

import numpy as np

from hotdeals.bandit.arms import ArmSet
from hotdeals.bandit.arrays import CountArray, FloatArray, IndexArray

__all__ = ["BatchPolicy", "Policy", "PolicyName"]


class PolicyName(enum.StrEnum):
    """The names of the policies, as stored with a campaign: the one list of them in the service.

    A ``StrEnum``, so each member equals (and serialises as) its plain string value.
    """

    THOMPSON = "thompson"
    UCB1 = "ucb1"
    EPSILON_GREEDY = "epsilon_greedy"
    UNIFORM = "uniform"


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


class BatchPolicy(ABC):
    """A :class:`Policy` whose ``rank`` is the one-row case of its ``rank_batch``.

    Subclasses define ``name`` and ``rank_batch`` only, so a single ranking and a batch can never
    disagree. The empty ``__slots__`` lets subclasses be frozen, slotted dataclasses.
    """

    __slots__ = ()

    name: ClassVar[PolicyName]

    def rank(self, arms: ArmSet, k: int, rng: np.random.Generator) -> IndexArray:
        """Distinct indices into ``arms`` of the top ``min(k, len(arms))`` arms, best first."""
        ranking = self.rank_batch(
            arms.alpha[np.newaxis, :],
            arms.beta[np.newaxis, :],
            arms.pulls[np.newaxis, :],
            arms.successes[np.newaxis, :],
            k,
            rng,
        )
        return ranking.reshape(-1)

    @abstractmethod
    def rank_batch(
        self,
        alpha: FloatArray,
        beta: FloatArray,
        pulls: CountArray,
        successes: CountArray,
        k: int,
        rng: np.random.Generator,
    ) -> IndexArray:
        """One independent ranking per row of the (rows, arms) arrays; see ``Policy.rank_batch``."""
