"""ArmSet: the validated input of every policy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hotdeals.bandit import ArmSet, BanditError, InvalidArmsError, InvalidParameterError


def test_from_counts_follows_the_accounting_identities() -> None:
    arms = ArmSet.from_counts(
        successes=[0, 3, 10], pulls=[0, 7, 10], prior_alpha=2.0, prior_beta=0.5
    )
    np.testing.assert_array_equal(arms.alpha, [2.0, 5.0, 12.0])
    np.testing.assert_array_equal(arms.beta, [0.5, 4.5, 0.5])
    np.testing.assert_array_equal(arms.pulls, [0, 7, 10])
    np.testing.assert_array_equal(arms.successes, [0, 3, 10])
    assert arms.alpha.dtype == np.float64
    assert arms.pulls.dtype == np.int64
    assert arms.successes.dtype == np.int64
    assert len(arms) == 3


def test_default_prior_is_uniform() -> None:
    arms = ArmSet.from_counts([1], [4])
    np.testing.assert_array_equal(arms.alpha, [2.0])
    np.testing.assert_array_equal(arms.beta, [4.0])


def test_empty_arm_set_is_allowed() -> None:
    arms = ArmSet.from_counts([], [])
    assert len(arms) == 0


def test_whole_floats_from_a_database_are_accepted_as_counts() -> None:
    arms = ArmSet.from_counts(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    np.testing.assert_array_equal(arms.pulls, [3, 4])


def test_arrays_are_copied_and_read_only() -> None:
    alpha = np.array([1.0, 2.0])
    arms = ArmSet(
        alpha=alpha, beta=np.ones(2), pulls=np.zeros(2, np.int64), successes=np.zeros(2, np.int64)
    )
    alpha[0] = 99.0
    assert arms.alpha[0] == 1.0
    with pytest.raises(ValueError, match="read-only"):
        arms.alpha[0] = 5.0


def _arms(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "alpha": [1.0, 2.0],
        "beta": [1.0, 3.0],
        "pulls": [0, 3],
        "successes": [0, 1],
    }
    fields.update(overrides)
    return fields


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"alpha": [1.0]}, "same length"),
        ({"pulls": [0, 3, 4]}, "same length"),
        ({"alpha": [0.0, 2.0]}, "alpha must be finite and > 0"),
        ({"alpha": [1.0, -2.0]}, "alpha must be finite and > 0"),
        ({"beta": [1.0, np.nan]}, "beta must be finite and > 0"),
        ({"beta": [np.inf, 1.0]}, "beta must be finite and > 0"),
        ({"pulls": [-1, 3]}, "pulls must be >= 0"),
        ({"successes": [0, 4]}, "successes must be between 0 and pulls"),
        ({"successes": [-1, 0]}, "successes must be between 0 and pulls"),
        ({"pulls": [0.5, 3]}, "whole numbers"),
        ({"alpha": [[1.0, 2.0]]}, "one-dimensional"),
        ({"alpha": ["a", "b"]}, "must be numbers"),
    ],
)
def test_invalid_arm_sets_are_rejected(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArmsError, match=message):
        ArmSet(**_arms(**overrides))


@pytest.mark.parametrize(
    ("successes", "pulls", "prior_alpha", "prior_beta", "error"),
    [
        ([1, 2], [3], 1.0, 1.0, InvalidArmsError),
        ([4], [3], 1.0, 1.0, InvalidArmsError),
        ([0], [1], 0.0, 1.0, InvalidParameterError),
        ([0], [1], 1.0, -1.0, InvalidParameterError),
        ([0], [1], float("nan"), 1.0, InvalidParameterError),
        ([0], [1], "1", 1.0, InvalidParameterError),
    ],
)
def test_invalid_counts_are_rejected(
    successes: list[int],
    pulls: list[int],
    prior_alpha: Any,
    prior_beta: Any,
    error: type[BanditError],
) -> None:
    with pytest.raises(error):
        ArmSet.from_counts(successes, pulls, prior_alpha, prior_beta)
