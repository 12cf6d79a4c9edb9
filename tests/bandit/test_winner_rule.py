"""The winner rule: P(best) or a small value remaining, with the floor on the leader only."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hotdeals.bandit import (
    ArmStatistics,
    InvalidArmsError,
    InvalidParameterError,
    Verdict,
    WinnerRule,
    arm_statistics,
)


def _stats(prob_best: list[float], loss: list[float], mean: list[float]) -> ArmStatistics:
    zeros = np.zeros(len(prob_best))
    return ArmStatistics(
        mean=np.array(mean, dtype=float),
        ci_low=zeros,
        ci_high=zeros,
        prob_best=np.array(prob_best, dtype=float),
        expected_loss=np.array(loss, dtype=float),
    )


# (prob_best, expected_loss, posterior mean, impressions): a loss of 0.01 on a mean of 0.05 is
# a relative loss of 0.2 (far above 0.25%), 0.0001 on 0.05 is 0.002 (below).
FAR = 0.01
NEAR = 0.0001


@pytest.mark.parametrize(
    ("rule", "prob_best", "loss", "impressions", "expected"),
    [
        # P(best) alone; the threshold itself qualifies.
        (WinnerRule(), [0.97, 0.02, 0.01], [FAR] * 3, [100, 100, 100], 0),
        (WinnerRule(), [0.95, 0.05], [FAR, FAR], [100, 100], 0),
        (WinnerRule(), [0.94, 0.06], [FAR, FAR], [10_000, 10_000], None),
        # The floor is on the leader only: starved losers no longer block the rule...
        (WinnerRule(), [0.99, 0.01], [FAR, FAR], [5_000, 3], 0),
        (WinnerRule(), [0.01, 0.02, 0.97], [FAR] * 3, [0, 7, 100], 2),
        # ...but the leader's own impressions still must reach it.
        (WinnerRule(), [0.99, 0.01], [FAR, FAR], [99, 5_000], None),
        # The value remaining alone: no deal very probably best, but nothing left to gain.
        (WinnerRule(), [0.55, 0.45], [NEAR, NEAR], [20_000, 20_000], 0),
        (WinnerRule(), [0.30, 0.40, 0.30], [NEAR] * 3, [9_000, 9_000, 9_000], 1),
        (WinnerRule(), [0.55, 0.45], [NEAR, NEAR], [50, 20_000], None),
        # 0 turns the value-remaining condition off, even for a leader that loses nothing.
        (WinnerRule(max_relative_loss=0), [0.6, 0.4], [0.0, 0.0], [500, 500], None),
        (WinnerRule(min_prob_best=0.9), [0.91, 0.09], [FAR, FAR], [100, 100], 0),
        (WinnerRule(min_impressions=0), [0.0, 1.0], [FAR, 0.0], [0, 0], 1),
        (WinnerRule(min_prob_best=1.0, min_impressions=1), [1.0], [0.0], [1], 0),
        (WinnerRule(), [], [], [], None),
    ],
)
def test_pick(
    rule: WinnerRule,
    prob_best: list[float],
    loss: list[float],
    impressions: list[int],
    expected: int | None,
) -> None:
    stats = _stats(prob_best, loss, [0.05] * len(prob_best))
    assert rule.pick(stats, impressions) == expected
    assert rule.assess(stats, impressions).winner == expected


def test_a_relative_loss_at_the_bound_does_not_qualify() -> None:
    # Powers of two, so that the ratio is exact: 2**-10 / 2**-1 = 2**-9, strictly below or not.
    stats = _stats([0.6, 0.4], [2.0**-10, 2.0**-8], [0.5, 0.25])
    assert WinnerRule(max_relative_loss=2.0**-9).pick(stats, [500, 500]) is None
    assert WinnerRule(max_relative_loss=2.0**-9 + 1e-12).pick(stats, [500, 500]) == 0


def test_a_verdict_names_every_condition() -> None:
    verdict = WinnerRule().assess(_stats([0.83, 0.17], [0.002, 0.03], [0.08, 0.05]), [900, 40])
    assert verdict.relative_loss == pytest.approx(0.025)
    assert verdict == Verdict(
        leader=0,
        prob_best=0.83,
        relative_loss=verdict.relative_loss,
        leader_impressions=900,
        prob_best_met=False,
        loss_met=False,
        floor_met=True,
        winner=None,
        no_meaningful_difference=False,
    )


def test_no_meaningful_difference_is_the_loss_condition_without_the_probability() -> None:
    rule = WinnerRule()
    tie = rule.assess(_stats([0.5, 0.5], [NEAR, NEAR], [0.05, 0.05]), [9_000, 9_000])
    assert tie.leader == 0  # the first one on a tie in P(best)
    assert tie.loss_met
    assert not tie.prob_best_met
    assert tie.no_meaningful_difference
    assert tie.winner == 0
    # Both conditions: a clear winner, not a tie. Floor missing: still "no difference".
    clear = rule.assess(_stats([0.99, 0.01], [0.0, FAR], [0.08, 0.05]), [9_000, 9_000])
    assert clear.prob_best_met
    assert clear.loss_met
    assert not clear.no_meaningful_difference
    early = rule.assess(_stats([0.5, 0.5], [NEAR, NEAR], [0.05, 0.05]), [10, 10])
    assert early.no_meaningful_difference
    assert early.winner is None


def test_no_deals_give_an_empty_verdict() -> None:
    verdict = WinnerRule().assess(_stats([], [], []), [])
    assert verdict.leader is None
    assert verdict.winner is None
    assert math.isnan(verdict.prob_best)
    assert math.isnan(verdict.relative_loss)
    assert not (verdict.prob_best_met)
    assert not (verdict.loss_met)
    assert not (verdict.floor_met)
    assert not verdict.no_meaningful_difference


def test_a_zero_mean_never_meets_the_loss_condition() -> None:
    # Only hand-made statistics have a zero mean (a Beta posterior's is > 0): infinite loss.
    verdict = WinnerRule().assess(_stats([0.6, 0.4], [0.0, 0.0], [0.0, 0.0]), [500, 500])
    assert verdict.relative_loss == math.inf
    assert not verdict.loss_met
    assert verdict.winner is None


def test_impressions_must_match_the_statistics() -> None:
    with pytest.raises(InvalidArmsError, match="impressions"):
        WinnerRule().pick(_stats([0.99, 0.01], [0, 0], [0.1, 0.1]), [100])
    with pytest.raises(InvalidArmsError, match="impressions"):
        WinnerRule().assess(_stats([0.99, 0.01], [0, 0], [0.1, 0.1]), [100, 2.5])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_prob_best": 0.5},
        {"min_prob_best": 1.01},
        {"min_prob_best": float("nan")},
        {"min_prob_best": "0.95"},
        {"max_relative_loss": -0.001},
        {"max_relative_loss": 1.0},
        {"max_relative_loss": float("inf")},
        {"max_relative_loss": True},
        {"max_relative_loss": "0.0025"},
        {"min_impressions": -1},
        {"min_impressions": 1.5},
        {"min_impressions": True},
    ],
)
def test_invalid_rules_are_rejected(kwargs: dict[str, Any]) -> None:
    name = next(iter(kwargs))
    with pytest.raises(InvalidParameterError, match=name):
        WinnerRule(**kwargs)


def test_the_defaults_are_those_of_the_issue() -> None:
    assert WinnerRule() == WinnerRule(
        min_prob_best=0.95, max_relative_loss=0.0025, min_impressions=100
    )


def test_equal_deals_with_plenty_of_traffic_end_as_no_meaningful_difference() -> None:
    # Two identical Beta(a, b) posteriors, close to normal with sd s: P(best) = 1/2 and the
    # expected loss E[(X - Y)+] = s / sqrt(pi). 10,000,000 impressions at 5% give s = 6.9e-5,
    # a relative loss of 0.00078 (< 0.25%); 100,000 give 10x more, 0.0078 (not met).
    rule = WinnerRule()
    big = arm_statistics([500_001, 500_001], [9_500_001, 9_500_001], np.random.default_rng(1))
    verdict = rule.assess(big, [10_000_000, 10_000_000])
    s = math.sqrt(0.05 * 0.95 / 10_000_003)
    # 20,000 draws: the loss estimate's relative sd is ~1% here; 10% is a loose bound.
    assert verdict.relative_loss == pytest.approx(s / math.sqrt(math.pi) / 0.05, rel=0.1)
    assert verdict.no_meaningful_difference
    assert verdict.winner is not None
    small = arm_statistics([5_001, 5_001], [95_001, 95_001], np.random.default_rng(1))
    assert rule.assess(small, [100_000, 100_000]).relative_loss == pytest.approx(0.0078, rel=0.1)
    assert rule.pick(small, [100_000, 100_000]) is None


def test_a_decisive_campaign_with_a_starved_loser_is_named() -> None:
    # 8% vs 2% after Thompson sampling starved the loser: the old rule (every deal >= 100
    # impressions) waited forever; this one names the leader.
    stats = arm_statistics([161, 2], [1841, 59], np.random.default_rng(3))
    assert WinnerRule().pick(stats, [2000, 60]) == 0


def test_decide_batch_reads_each_row_as_assess_does() -> None:
    rule = WinnerRule()
    prob_best = np.array([[0.97, 0.03], [0.55, 0.45], [0.99, 0.01], [0.6, 0.4]])
    loss = np.array([[FAR, FAR], [NEAR, NEAR], [FAR, FAR], [FAR, FAR]])
    mean = np.full((4, 2), 0.05)
    pulls = np.array([[100, 1], [9_000, 9_000], [50, 5_000], [9_000, 9_000]])
    np.testing.assert_array_equal(rule.decide_batch(prob_best, loss, mean, pulls), [0, 0, -1, -1])


def test_decide_batch_without_arms_decides_nothing() -> None:
    empty = np.zeros((3, 0))
    winners = WinnerRule().decide_batch(empty, empty, empty, empty)
    np.testing.assert_array_equal(winners, [-1, -1, -1])


@pytest.mark.parametrize(
    "shapes", [((2, 3), (2, 3), (2, 3), (2, 2)), ((3,), (3,), (3,), (3,)), ((1, 2, 2),) * 4]
)
def test_decide_batch_needs_matrices_of_one_shape(shapes: tuple[tuple[int, ...], ...]) -> None:
    arrays = [np.full(shape, 0.5) for shape in shapes]
    with pytest.raises(InvalidArmsError, match="rows, arms"):
        WinnerRule().decide_batch(*arrays)


rules = st.builds(
    WinnerRule,
    min_prob_best=st.floats(0.5, 1.0, exclude_min=True),
    max_relative_loss=st.sampled_from([0.0, 0.0025, 0.01, 0.1]),
    min_impressions=st.integers(0, 500),
)
rows = st.integers(1, 6).flatmap(
    lambda arms: st.tuples(
        hnp.arrays(np.float64, (5, arms), elements=st.floats(0.0, 1.0)),
        hnp.arrays(np.float64, (5, arms), elements=st.floats(0.0, 0.01)),
        hnp.arrays(np.float64, (5, arms), elements=st.floats(0.0, 0.2)),
        hnp.arrays(np.int64, (5, arms), elements=st.integers(0, 1000)),
    )
)


@settings(deadline=None, database=None, max_examples=150)
@given(rule=rules, arrays=rows)
def test_decide_batch_agrees_with_assess_on_every_row(
    rule: WinnerRule, arrays: tuple[np.ndarray[Any, Any], ...]
) -> None:
    prob_best, loss, mean, pulls = arrays
    winners = rule.decide_batch(prob_best, loss, mean, pulls)
    for row in range(len(prob_best)):
        stats = _stats(list(prob_best[row]), list(loss[row]), list(mean[row]))
        verdict = rule.assess(stats, pulls[row])
        assert winners[row] == (-1 if verdict.winner is None else verdict.winner)
        assert rule.pick(stats, pulls[row]) == verdict.winner
