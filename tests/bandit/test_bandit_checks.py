"""check_number: the one validation of every scalar parameter of ``hotdeals.bandit``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from hotdeals.bandit import (
    ArmSet,
    EpsilonGreedy,
    InvalidParameterError,
    ThompsonSampling,
    WinnerRule,
    arm_statistics,
    credible_interval,
    prob_best_two_exact,
    replay,
    simulate,
)
from hotdeals.bandit.checks import check_number

UNIT: dict[str, Any] = {"low": 0, "high": 1}  # epsilon's range, [0, 1]
POSITIVE: dict[str, Any] = {"low": 0, "low_inclusive": False}  # a prior's range, > 0


@pytest.mark.parametrize(
    ("value", "bounds", "integer", "message"),
    [
        (True, UNIT, False, "epsilon must be a number in [0, 1], got True"),
        (np.True_, UNIT, False, "epsilon must be a number in [0, 1], got np.True_"),
        (False, POSITIVE, False, "epsilon must be a number > 0, got False"),
        (True, {"low": 1}, True, "epsilon must be an integer >= 1, got True"),
        (float("nan"), UNIT, False, "epsilon must be in [0, 1], got nan"),
        (np.float64("nan"), POSITIVE, False, "epsilon must be finite and > 0, got nan"),
        (float("inf"), POSITIVE, False, "epsilon must be finite and > 0, got inf"),
        (float("-inf"), {}, False, "epsilon must be finite, got -inf"),
        (10**400, {"high": 1}, False, "epsilon must be finite and <= 1, got 1" + "0" * 400),
        (-0.1, UNIT, False, "epsilon must be in [0, 1], got -0.1"),
        (2, UNIT, False, "epsilon must be in [0, 1], got 2"),
        (0, POSITIVE, False, "epsilon must be finite and > 0, got 0"),
        (1.0, {**UNIT, "high_inclusive": False}, False, "epsilon must be in [0, 1), got 1.0"),
        (0.5, {"low": 0.5, "high": 1, "low_inclusive": False}, False, "in (0.5, 1], got 0.5"),
        (3, {"high": 3, "high_inclusive": False}, False, "epsilon must be finite and < 3, got 3"),
        (0, {"low": 1}, True, "epsilon must be an integer >= 1, got 0"),
        (np.int64(-2), {"low": 0}, True, "epsilon must be an integer >= 0, got -2"),
        (2.0, {"low": 1}, True, "epsilon must be an integer >= 1, got 2.0"),
        ("0.1", UNIT, False, "epsilon must be a number in [0, 1], got '0.1'"),
        (None, {}, False, "epsilon must be a number, got None"),
        (1 + 0j, {}, False, "epsilon must be a number, got (1+0j)"),
        ("3", {}, True, "epsilon must be an integer, got '3'"),
    ],
)
def test_refusals_name_the_parameter_the_range_and_the_value(
    value: object, bounds: dict[str, Any], integer: bool, message: str
) -> None:
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        check_number(value, "epsilon", integer=integer, **bounds)


@pytest.mark.parametrize(
    ("value", "bounds", "expected"),
    [
        (0, UNIT, 0.0),
        (1, UNIT, 1.0),
        (np.float32(0.5), UNIT, 0.5),
        (np.int64(3), POSITIVE, 3.0),
        (1e-300, POSITIVE, 1e-300),
        (-1e300, {}, -1e300),
    ],
)
def test_accepted_numbers_come_back_as_floats(
    value: object, bounds: dict[str, Any], expected: float
) -> None:
    checked = check_number(value, "x", **bounds)
    assert type(checked) is float
    assert checked == expected


@pytest.mark.parametrize("value", [1, np.int64(7), np.uint8(1), 10**30])
def test_accepted_integers_come_back_as_ints(value: object) -> None:
    checked = check_number(value, "k", low=1, integer=True)
    assert type(checked) is int
    assert checked == value


# Every float parameter of the package refuses True. Before check_number, replay's priors
# skipped the bool check: replay(..., prior_alpha=True) silently ran with a prior of 1.
FLOAT_PARAMETERS: list[tuple[str, Callable[[Any], object]]] = [
    ("epsilon", lambda v: EpsilonGreedy(v)),
    ("prior_alpha", lambda v: ArmSet.from_counts([0], [1], prior_alpha=v)),
    ("prior_beta", lambda v: ArmSet.from_counts([0], [1], prior_beta=v)),
    ("level", lambda v: credible_interval(1, 1, v)),
    ("level", lambda v: arm_statistics([1], [1], np.random.default_rng(0), level=v)),
    ("min_prob_best", lambda v: WinnerRule(min_prob_best=v)),
    ("a1", lambda v: prob_best_two_exact(v, 1, 1, 1)),
    ("b2", lambda v: prob_best_two_exact(1, 1, 1, v)),
    ("prior_alpha", lambda v: _replay(prior_alpha=v)),
    ("prior_beta", lambda v: _replay(prior_beta=v)),
    ("level", lambda v: _replay(level=v)),
]
INTEGER_PARAMETERS: list[tuple[str, Callable[[Any], object]]] = [
    ("k", lambda v: ThompsonSampling().rank(ArmSet.from_counts([0], [1]), v, _rng())),
    ("draws", lambda v: arm_statistics([1], [1], np.random.default_rng(0), draws=v)),
    ("min_impressions", lambda v: WinnerRule(min_impressions=v)),
    ("n_boot", lambda v: _replay(n_boot=v)),
    ("horizon", lambda v: simulate(ThompsonSampling(), [0.1], v, [0])),
    ("batch", lambda v: simulate(ThompsonSampling(), [0.1], 10, [0], batch=v)),
]
ALL_PARAMETERS = FLOAT_PARAMETERS + INTEGER_PARAMETERS
IDS = [f"{name}-{index}" for index, (name, _) in enumerate(ALL_PARAMETERS)]


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _replay(**kwargs: Any) -> object:
    return replay(ThompsonSampling(), [1, 2, 1], [1, 0, 1], _rng(), **kwargs)


@pytest.mark.parametrize(("name", "call"), ALL_PARAMETERS, ids=IDS)
@pytest.mark.parametrize("value", [True, False, float("nan"), float("inf"), "1", None])
def test_every_parameter_refuses_booleans_and_non_finite_values(
    name: str, call: Callable[[Any], object], value: object
) -> None:
    with pytest.raises(
        InvalidParameterError, match=rf"^{name} must be .*, got {re.escape(repr(value))}$"
    ):
        call(value)


def test_replay_priors_used_to_accept_a_boolean_and_now_refuse_it() -> None:
    with pytest.raises(
        InvalidParameterError, match=re.escape("prior_alpha must be a number > 0, got True")
    ):
        _replay(prior_alpha=True)
    assert _replay(prior_alpha=1.0) is not None  # a real prior still works


@pytest.mark.parametrize(("name", "call"), FLOAT_PARAMETERS, ids=IDS[: len(FLOAT_PARAMETERS)])
def test_float_parameters_refuse_values_out_of_range(
    name: str, call: Callable[[Any], object]
) -> None:
    with pytest.raises(InvalidParameterError, match=rf"^{name} must be .*, got -1$"):
        call(-1)


@pytest.mark.parametrize(("name", "call"), INTEGER_PARAMETERS, ids=IDS[len(FLOAT_PARAMETERS) :])
def test_integer_parameters_refuse_fractions_and_values_out_of_range(
    name: str, call: Callable[[Any], object]
) -> None:
    for value in (-1, 2.5):
        with pytest.raises(
            InvalidParameterError, match=rf"^{name} must be an integer >= [01], got {value}$"
        ):
            call(value)
