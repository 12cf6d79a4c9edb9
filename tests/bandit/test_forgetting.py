"""Discounted posteriors against closed forms: decay, rebuilds from the log, moving reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotdeals.bandit import (
    InvalidArmsError,
    InvalidParameterError,
    decay,
    discounted_posteriors,
    discounted_sum,
)


@pytest.mark.parametrize(
    ("elapsed", "half_life", "expected"),
    [(0.0, 3.0, 1.0), (3.0, 3.0, 0.5), (9.0, 3.0, 0.125), (-3.0, 3.0, 2.0), (1.5, 3.0, 2**-0.5)],
)
def test_decay_halves_the_weight_every_half_life(
    elapsed: float, half_life: float, expected: float
) -> None:
    assert decay(elapsed, half_life) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("half_life", [0, -1.0, math.nan, math.inf, True, "1"])
def test_decay_refuses_a_half_life_that_is_not_a_positive_number(half_life: object) -> None:
    with pytest.raises(InvalidParameterError, match="half_life must be"):
        decay(1.0, half_life)  # type: ignore[arg-type]


def test_decay_far_in_the_future_is_infinite_not_an_error() -> None:
    assert decay(-1e6, 1.0) == math.inf


def test_a_known_sequence_of_impressions_and_clicks() -> None:
    # Impressions at t = 0, 2, 4, 6; clicks at 4 and 6; half-life 2; seen from T = 6.
    impressions = discounted_sum([0, 2, 4, 6], 6.0, 2.0)
    clicks = discounted_sum([4, 6], 6.0, 2.0)
    assert impressions == pytest.approx(1 + 0.5 + 0.25 + 0.125)
    assert clicks == pytest.approx(1.5)
    alpha, beta = discounted_posteriors(2.0, 98.0, impressions, clicks)
    assert float(alpha) == pytest.approx(3.5)
    assert float(beta) == pytest.approx(98.0 + 0.375)


@settings(max_examples=60, deadline=None)
@given(
    times=st.lists(st.floats(0, 1000, allow_nan=False), min_size=1, max_size=40),
    half_life=st.floats(0.5, 500),
    later=st.floats(0, 2000),
)
def test_moving_the_reference_equals_recomputing_from_scratch(
    times: list[float], half_life: float, later: float
) -> None:
    ordered = sorted(times)
    # Incrementally: move the reference to each event, then count it with weight 1.
    state, reference = 0.0, ordered[0]
    for t in ordered:
        state = state * decay(t - reference, half_life) + 1.0
        reference = t
    end = reference + later
    moved = state * decay(end - reference, half_life)
    assert moved == pytest.approx(discounted_sum(ordered, end, half_life), rel=1e-9, abs=1e-300)


def test_with_no_recent_evidence_the_posterior_is_the_deals_own_prior_not_a_uniform() -> None:
    # 200,000 impressions at 2% then a quiet spell of 40 half-lives: a 2% prior stays a 2% prior.
    faded = 200_000 * decay(40.0, 1.0)
    alpha, beta = discounted_posteriors(2.0, 98.0, faded, 0.02 * faded)
    assert float(alpha / (alpha + beta)) == pytest.approx(0.02, abs=1e-6)
    assert float(alpha + beta) == pytest.approx(100.0, abs=1e-3)


def test_discounted_posteriors_broadcast_and_floor_the_failures_at_zero() -> None:
    # A click dated after its impression weighs more than it: failures must not go negative.
    alpha, beta = discounted_posteriors([1.0, 2.0], 3.0, np.array([[0.5, 4.0]]), [[1.0, 1.0]])
    np.testing.assert_allclose(alpha, [[2.0, 3.0]])
    np.testing.assert_allclose(beta, [[3.0, 6.0]])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0.0, 1.0, 1.0, 0.0), "prior_alpha must be finite and > 0"),
        ((1.0, -1.0, 1.0, 0.0), "prior_beta must be finite and > 0"),
        ((1.0, 1.0, -0.5, 0.0), "impressions must be finite and >= 0"),
        ((1.0, 1.0, 1.0, math.nan), "clicks must be finite and >= 0"),
        ((1.0, 1.0, [1.0, 2.0], [1.0, 2.0, 3.0]), "do not broadcast"),
        ((1.0, 1.0, "many", 0.0), "impressions must be numbers"),
    ],
)
def test_discounted_posteriors_refuse_impossible_states(
    args: tuple[object, ...], message: str
) -> None:
    with pytest.raises(InvalidArmsError, match=message):
        discounted_posteriors(*args)  # type: ignore[arg-type]


def test_discounted_sum_refuses_times_that_are_not_finite() -> None:
    with pytest.raises(InvalidArmsError, match="times must be finite"):
        discounted_sum([0.0, math.inf], 1.0, 1.0)
