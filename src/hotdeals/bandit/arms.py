"""The arms of one campaign as parallel arrays, the only input the policies read.

Keeping the four counters side by side as NumPy arrays (rather than a list of arm objects) is
what lets every policy score thousands of arms without a Python loop. The set is validated once
at construction so that the policies can trust it and stay branch-free on the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hotdeals.bandit.arrays import CountArray, FloatArray, as_count_vector, as_float_vector
from hotdeals.bandit.checks import check_number
from hotdeals.bandit.errors import InvalidArmsError

__all__ = ["ArmSet"]

_ArrayT = TypeVar("_ArrayT", bound=NDArray[Any])


@dataclass(frozen=True, slots=True)
class ArmSet:
    """Beta posteriors and raw counts of the arms, index ``i`` describing the same arm everywhere.

    ``alpha``/``beta`` carry the posterior (prior included) for the Bayesian policies;
    ``pulls``/``successes`` carry the raw counts that UCB1 needs and the winner rule checks. The
    arrays are copied and made read-only so that a frozen ArmSet really cannot change under a
    policy that is still ranking it.
    """

    alpha: FloatArray
    beta: FloatArray
    pulls: CountArray
    successes: CountArray

    def __post_init__(self) -> None:
        alpha = _frozen(as_float_vector(self.alpha, "alpha"))
        beta = _frozen(as_float_vector(self.beta, "beta"))
        pulls = _frozen(as_count_vector(self.pulls, "pulls"))
        successes = _frozen(as_count_vector(self.successes, "successes"))
        lengths = {len(alpha), len(beta), len(pulls), len(successes)}
        if len(lengths) != 1:
            raise InvalidArmsError(
                "alpha, beta, pulls and successes must have the same length, got "
                f"{len(alpha)}, {len(beta)}, {len(pulls)} and {len(successes)}"
            )
        if (pulls < 0).any():
            first = int(np.argmax(pulls < 0))
            raise InvalidArmsError(f"pulls must be >= 0, arm {first} has pulls={pulls[first]}")
        impossible = (successes < 0) | (successes > pulls)
        if impossible.any():
            first = int(np.argmax(impossible))
            raise InvalidArmsError(
                f"successes must be between 0 and pulls, arm {first} has "
                f"successes={successes[first]} and pulls={pulls[first]}"
            )
        for name, values in (("alpha", alpha), ("beta", beta)):
            bad = ~(np.isfinite(values) & (values > 0))
            if bad.any():
                first = int(np.argmax(bad))
                raise InvalidArmsError(
                    f"{name} must be finite and > 0, arm {first} has {name}={values[first]!r}"
                )
        object.__setattr__(self, "alpha", alpha)
        object.__setattr__(self, "beta", beta)
        object.__setattr__(self, "pulls", pulls)
        object.__setattr__(self, "successes", successes)

    @classmethod
    def from_counts(
        cls,
        successes: ArrayLike,
        pulls: ArrayLike,
        prior_alpha: float = 1.0,
        prior_beta: float = 1.0,
    ) -> ArmSet:
        """Build the posteriors from counts, as the service's accounting invariants define them.

        ``alpha = prior_alpha + successes`` and ``beta = prior_beta + failures``: the same
        identities the database counters obey, so an ArmSet rebuilt from the transactions log
        equals the one read from the counters.
        """
        prior_alpha = check_number(prior_alpha, "prior_alpha", low=0, low_inclusive=False)
        prior_beta = check_number(prior_beta, "prior_beta", low=0, low_inclusive=False)
        success_counts = as_count_vector(successes, "successes")
        pull_counts = as_count_vector(pulls, "pulls")
        if len(success_counts) != len(pull_counts):
            raise InvalidArmsError(
                "successes and pulls must have the same length, got "
                f"{len(success_counts)} and {len(pull_counts)}"
            )
        return cls(
            alpha=prior_alpha + success_counts.astype(np.float64),
            beta=prior_beta + (pull_counts - success_counts).astype(np.float64),
            pulls=pull_counts,
            successes=success_counts,
        )

    def __len__(self) -> int:
        return len(self.alpha)


def _frozen(array: _ArrayT) -> _ArrayT:
    copy = array.copy()
    copy.flags.writeable = False
    return copy
