"""The lookup from the policy name stored with a campaign to a ready policy object.

:data:`POLICY_REGISTRY` maps every :class:`PolicyName` to a constructor; :func:`make_policy`
only looks names up in it, so adding a policy means adding a member and a registry entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final, TypeAlias

from hotdeals.bandit.epsilon_greedy import EpsilonGreedy
from hotdeals.bandit.errors import UnknownPolicyError
from hotdeals.bandit.policy import Policy, PolicyName
from hotdeals.bandit.thompson import ThompsonSampling
from hotdeals.bandit.ucb1 import UCB1
from hotdeals.bandit.uniform import Uniform

__all__ = ["POLICY_NAMES", "POLICY_REGISTRY", "PolicyFactory", "make_policy"]

PolicyFactory: TypeAlias = Callable[[float], Policy]
"""Builds a policy from the campaign's ``epsilon``, which only epsilon-greedy uses."""

POLICY_REGISTRY: Final[Mapping[PolicyName, PolicyFactory]] = MappingProxyType(
    {
        PolicyName.THOMPSON: lambda _epsilon: ThompsonSampling(),
        PolicyName.UCB1: lambda _epsilon: UCB1(),
        PolicyName.EPSILON_GREEDY: lambda epsilon: EpsilonGreedy(epsilon=epsilon),
        PolicyName.UNIFORM: lambda _epsilon: Uniform(),
    }
)

POLICY_NAMES: Final[tuple[str, ...]] = tuple(name.value for name in PolicyName)
"""The values of :class:`PolicyName` as plain strings, in declaration order."""


def make_policy(name: str, *, epsilon: float = 0.1) -> Policy:
    """The policy a campaign stores by name; ``epsilon`` only matters for ``epsilon_greedy``."""
    try:
        factory = POLICY_REGISTRY[PolicyName(name)]
    except ValueError:
        valid = ", ".join(POLICY_NAMES)
        raise UnknownPolicyError(f"unknown policy {name!r}; valid names are: {valid}") from None
    return factory(epsilon)
