"""Simulated campaigns: reproducibility, the regret definition, and Thompson's advantage."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hotdeals.bandit import (
    POLICY_NAMES,
    UCB1,
    InvalidParameterError,
    ThompsonSampling,
    Uniform,
    make_policy,
    simulate,
)

RATES = [round(0.01 * i, 2) for i in range(1, 11)]  # 0.01 .. 0.10
SEEDS = list(range(10))


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_same_seeds_reproduce_the_same_run(name: str) -> None:
    first = simulate(make_policy(name), RATES, 2000, [1, 2, 3], k=2, batch=3)
    second = simulate(make_policy(name), RATES, 2000, [1, 2, 3], k=2, batch=3)
    np.testing.assert_array_equal(first.cumulative_regret, second.cumulative_regret)
    np.testing.assert_array_equal(first.pulls, second.pulls)
    np.testing.assert_array_equal(first.best_arm_share, second.best_arm_share)


def test_different_seeds_give_different_runs() -> None:
    first = simulate(ThompsonSampling(), RATES, 2000, [1, 2, 3])
    second = simulate(ThompsonSampling(), RATES, 2000, [4, 5, 6])
    assert not np.array_equal(first.pulls, second.pulls)


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_regret_curves_are_non_decreasing_and_end_at_the_final_regret(name: str) -> None:
    result = simulate(make_policy(name), RATES, 10_000, [0, 1, 2])
    assert result.cumulative_regret.shape == (3, 200)
    assert result.checkpoints.shape == (200,)
    assert result.checkpoints[0] == 1
    assert result.checkpoints[-1] == 10_000
    assert (np.diff(result.checkpoints) > 0).all()
    assert (result.cumulative_regret >= 0).all()
    assert (np.diff(result.cumulative_regret, axis=1) >= -1e-9).all()
    np.testing.assert_array_equal(result.final_regret, result.cumulative_regret[:, -1])
    assert result.final_regret.shape == (3,)
    assert (result.pulls.sum(axis=1) == 10_000).all()


def test_short_horizons_keep_one_checkpoint_per_step() -> None:
    result = simulate(Uniform(), RATES, 7, [0])
    np.testing.assert_array_equal(result.checkpoints, np.arange(1, 8))
    # With k=1 every step loses best - shown, a multiple of 0.01 between 0 and 0.09.
    steps = np.diff(np.concatenate([[0.0], result.cumulative_regret[0]]))
    assert ((steps > -1e-12) & (steps < 0.09 + 1e-12)).all()
    np.testing.assert_allclose(steps * 100, np.round(steps * 100), atol=1e-9)


def test_uniform_regret_is_horizon_times_the_gap_to_the_mean_rate() -> None:
    horizon = 20_000
    result = simulate(Uniform(), RATES, horizon, SEEDS)
    expected = horizon * (max(RATES) - np.mean(RATES))  # 900
    assert result.final_regret.mean() == pytest.approx(expected, rel=0.02)
    assert result.best_arm_share.mean() == pytest.approx(0.1, abs=0.005)


def test_regret_with_several_slots_is_measured_against_the_k_best_arms() -> None:
    # Two random slots out of rates 0.1, 0.2, 0.3 show 0.4 on average against 0.5 for the best
    # two, so the regret is 0.1 per step.
    result = simulate(Uniform(), [0.1, 0.2, 0.3], 5000, SEEDS, k=2)
    assert result.final_regret.mean() == pytest.approx(500, rel=0.03)
    assert (result.pulls.sum(axis=1) == 10_000).all()


@pytest.mark.parametrize("name", POLICY_NAMES)
@pytest.mark.parametrize("k", [3, 5])
def test_showing_every_arm_has_no_regret(name: str, k: int) -> None:
    result = simulate(make_policy(name), [0.1, 0.5, 0.2], 300, [0, 1], k=k)
    np.testing.assert_allclose(result.final_regret, 0.0, atol=1e-9)
    np.testing.assert_allclose(result.best_arm_share, 1 / 3)


def test_a_single_arm_has_no_regret_and_all_the_traffic() -> None:
    result = simulate(ThompsonSampling(), [0.3], 100, [0])
    np.testing.assert_allclose(result.final_regret, 0.0, atol=1e-9)
    np.testing.assert_array_equal(result.best_arm_share, [1.0])


def test_thompson_learns_and_uniform_does_not() -> None:
    thompson = simulate(ThompsonSampling(), RATES, 5000, SEEDS)
    uniform = simulate(Uniform(), RATES, 5000, SEEDS)
    assert thompson.final_regret.mean() < 0.6 * uniform.final_regret.mean()
    assert thompson.best_arm_share.mean() > 2 * uniform.best_arm_share.mean()


@pytest.mark.parametrize("name", ["thompson", "ucb1"])
def test_counts_frozen_for_the_whole_run_make_a_policy_random(name: str) -> None:
    # batch = horizon: the policy never sees an impression or a click, so Thompson keeps
    # sampling the prior and UCB1 keeps every arm at an infinite index (random ties).
    horizon = 5000
    frozen = simulate(make_policy(name), RATES, horizon, SEEDS, batch=horizon)
    expected = horizon * (max(RATES) - np.mean(RATES))
    assert frozen.final_regret.mean() == pytest.approx(expected, rel=0.03)
    learning = simulate(make_policy(name), RATES, horizon, SEEDS, batch=50)
    assert learning.final_regret.mean() < 0.9 * expected


def test_progress_reports_steps_done_up_to_the_horizon() -> None:
    seen: list[int] = []
    simulate(UCB1(), RATES, 2500, [0], progress=seen.append)
    assert seen[-1] == 2500
    assert seen == sorted(seen)
    assert len(seen) >= 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"true_rates": []}, "at least one arm"),
        ({"true_rates": [0.1, 1.2]}, r"\[0, 1\]"),
        ({"true_rates": [0.1, -0.1]}, r"\[0, 1\]"),
        ({"horizon": 0}, "horizon"),
        ({"seeds": []}, "at least one seed"),
        ({"seeds": [1, -2]}, "seeds must be >= 0"),
        ({"seeds": "12"}, "seeds"),
        ({"seeds": [1.5]}, "whole numbers"),
        ({"true_rates": ["high", "low"]}, "numbers"),
        ({"k": 0}, "k must be"),
        ({"batch": 0}, "batch"),
    ],
)
def test_invalid_simulations_are_rejected(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {
        "policy": ThompsonSampling(),
        "true_rates": RATES,
        "horizon": 10,
        "seeds": [0],
    }
    arguments.update(kwargs)
    with pytest.raises(InvalidParameterError, match=message):
        simulate(**arguments)


@pytest.mark.slow
def test_thompson_regret_over_a_long_campaign() -> None:
    # The acceptance figure: 10 arms at 0.01..0.10, 100,000 impressions, 10 seeds, one slot.
    horizon = 100_000
    regret = {
        name: simulate(make_policy(name), RATES, horizon, SEEDS).final_regret.mean()
        for name in ("thompson", "ucb1", "uniform")
    }
    assert regret["thompson"] < 250
    assert regret["thompson"] < regret["ucb1"]
    assert regret["thompson"] < regret["uniform"]
