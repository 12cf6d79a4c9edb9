"""Simulated campaigns: reproducibility, the regret definition, Thompson's advantage, positions."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from hotdeals.bandit import (
    POLICY_NAMES,
    UCB1,
    InvalidParameterError,
    ThompsonSampling,
    Uniform,
    arm_statistics,
    make_policy,
    simulate,
)
from hotdeals.bandit.positions import corrected_posteriors
from hotdeals.bandit.simulate import REFIT_EVERY

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


# Position-based clicks: a deal in slot p is clicked with probability rate * e_p.
EXAMINATION = [1.0, 0.75, 0.6]
SIX = [0.14, 0.13, 0.10, 0.08, 0.06, 0.04]


def test_plain_runs_record_no_slot_counters() -> None:
    result = simulate(ThompsonSampling(), RATES, 100, [0], k=3)
    assert (result.slot_pulls, result.slot_clicks, result.examination_fit) == (None, None, None)


def test_uniform_regret_with_examination_matches_the_exact_expectation() -> None:
    # A uniform slate puts a uniformly random ordered triple of the six deals in the slots.
    # Enumerating the 120 triples gives the exact mean and variance of one step's expected
    # clicks; the steps are independent, so the mean regret over seeds has standard error
    # sqrt(horizon * variance / seeds), and the tolerance is 4 of them.
    horizon, seeds = 4000, 10
    e = np.array(EXAMINATION)
    step = np.array([np.array(SIX)[list(t)] @ e for t in itertools.permutations(range(6), 3)])
    best = np.sort(SIX)[::-1][:3] @ e
    result = simulate(Uniform(), SIX, horizon, list(range(seeds)), k=3, examination=EXAMINATION)
    expected = horizon * (best - step.mean())
    error = np.sqrt(horizon * step.var() / seeds)
    assert abs(result.final_regret.mean() - expected) < 4 * error


def test_clicks_per_slot_follow_rate_times_examination() -> None:
    # Uniform allocation: every slot shows the average deal, so slot p's CTR is mean(rates) *
    # e_p; 4 binomial standard errors of the pooled CTR per slot.
    horizon, seeds = 5000, 4
    result = simulate(Uniform(), SIX, horizon, list(range(seeds)), k=3, examination=EXAMINATION)
    assert result.slot_pulls is not None
    assert result.slot_clicks is not None
    shown = result.slot_pulls.sum(axis=(0, 1))
    np.testing.assert_array_equal(shown, [horizon * seeds] * 3)
    np.testing.assert_array_equal(result.slot_pulls.sum(axis=2), result.pulls)
    expected = np.mean(SIX) * np.array(EXAMINATION)
    ctr = result.slot_clicks.sum(axis=(0, 1)) / shown
    assert (np.abs(ctr - expected) < 4 * np.sqrt(expected * (1 - expected) / shown)).all()


def test_the_examination_fit_recovers_the_slots_under_random_order() -> None:
    # 20 runs of 20,000 random slates: 60,000 impressions each. Tolerance: 4 standard errors
    # of the mean fit (spread over runs / sqrt(runs)) plus 0.005 for the fit's O(1/n) bias.
    seeds = 20
    result = simulate(Uniform(), SIX, 20_000, list(range(seeds)), k=3, examination=EXAMINATION)
    assert result.examination_fit is not None
    fits = result.examination_fit
    error = fits.std(axis=0, ddof=1) / np.sqrt(seeds)
    assert (np.abs(fits.mean(axis=0) - EXAMINATION) <= 4 * error + 0.005).all()


def test_neither_option_changes_the_random_numbers_drawn() -> None:
    # Uniform ignores the posteriors, so only the random stream decides what it shows.
    plain = simulate(Uniform(), SIX, 1500, [3, 4], k=3)
    seen = simulate(Uniform(), SIX, 1500, [3, 4], k=3, examination=[1, 1, 1])
    corrected = simulate(Uniform(), SIX, 1500, [3, 4], k=3, position_correction=True)
    np.testing.assert_array_equal(plain.pulls, seen.pulls)
    np.testing.assert_array_equal(plain.pulls, corrected.pulls)
    np.testing.assert_allclose(plain.cumulative_regret, seen.cumulative_regret, atol=1e-9)
    assert seen.slot_clicks is not None
    assert corrected.slot_clicks is not None
    np.testing.assert_array_equal(seen.slot_clicks, corrected.slot_clicks)


def test_the_policy_sees_the_position_corrected_posteriors() -> None:
    # The last checkpoint is the horizon, a multiple of the refit interval: the posteriors
    # shown then are those of the refit on the final counters. That refit stops when an
    # iteration moves e by < 1e-6, which can leave it ~100 times that from the maximum (EM's
    # slow rate at CTRs of a few percent), so beta agrees to a relative 1e-4.
    horizon = 2 * REFIT_EVERY
    seen: dict[str, np.ndarray] = {}

    def observe(step: int, alpha: np.ndarray, beta: np.ndarray, pulls: np.ndarray) -> None:
        if step == horizon:
            seen.update(alpha=alpha.copy(), beta=beta.copy(), pulls=pulls.copy())

    result = simulate(
        ThompsonSampling(),
        SIX,
        horizon,
        [0, 1],
        k=3,
        observe=observe,
        examination=EXAMINATION,
        position_correction=True,
    )
    assert result.slot_pulls is not None
    assert result.slot_clicks is not None
    assert result.examination_fit is not None
    for s in range(2):
        alpha, beta = corrected_posteriors(
            result.slot_pulls[s], result.slot_clicks[s], result.examination_fit[s], 1.0, 1.0
        )
        np.testing.assert_array_equal(seen["alpha"][s], alpha)
        np.testing.assert_allclose(seen["beta"][s], beta, rtol=1e-4)
        assert (seen["beta"][s] < 1 + seen["pulls"][s] - (alpha - 1) - 1e-9).any()


def test_shuffled_ranks_spread_every_deal_evenly_over_the_slots() -> None:
    # Every slate in random order: the best deal, which Thompson would pin to slot 1, sits in
    # each slot a third of its impressions (4 binomial standard errors); no shuffle at all
    # leaves the run as it was.
    shuffled = simulate(ThompsonSampling(), SIX, 2000, [0, 1], k=3, shuffle_share=1.0)
    assert shuffled.slot_pulls is None
    kept = simulate(ThompsonSampling(), SIX, 2000, [0, 1], k=3, examination=[1, 1, 1])
    assert kept.slot_pulls is not None
    everywhere = simulate(
        ThompsonSampling(), SIX, 2000, [0, 1], k=3, examination=[1, 1, 1], shuffle_share=1.0
    )
    assert everywhere.slot_pulls is not None
    best = everywhere.slot_pulls[:, 0, :].sum(axis=0)
    share = best / best.sum()
    assert (np.abs(share - 1 / 3) < 4 * np.sqrt(2 / 9 / best.sum())).all()
    assert kept.slot_pulls[:, 0, 0].sum() > 0.8 * kept.slot_pulls[:, 0, :].sum()
    unshuffled = simulate(ThompsonSampling(), SIX, 2000, [0, 1], k=3, shuffle_share=0.0)
    np.testing.assert_array_equal(
        unshuffled.pulls, simulate(ThompsonSampling(), SIX, 2000, [0, 1], k=3).pulls
    )


def test_a_known_examination_is_used_as_is() -> None:
    seen: dict[str, np.ndarray] = {}

    def observe(step: int, alpha: np.ndarray, beta: np.ndarray, pulls: np.ndarray) -> None:
        seen.update(beta=beta.copy())

    result = simulate(
        ThompsonSampling(),
        SIX,
        1200,
        [5],
        k=3,
        observe=observe,
        examination=EXAMINATION,
        position_correction=True,
        known_examination=True,
    )
    assert result.slot_pulls is not None
    assert result.slot_clicks is not None
    _, beta = corrected_posteriors(
        result.slot_pulls[0], result.slot_clicks[0], EXAMINATION, 1.0, 1.0
    )
    np.testing.assert_allclose(seen["beta"][0], beta, rtol=1e-12)


def wrong_confident_winners(result: Any, rates: list[float], corrected: bool) -> int:
    """Runs whose final posterior gives P(best) > 0.95 to a deal that is not the best."""
    rng = np.random.default_rng(0)
    wrong = 0
    for s in range(len(result.final_regret)):
        n, c = result.slot_pulls[s], result.slot_clicks[s]
        e = result.examination_fit[s] if corrected else np.ones(n.shape[1])
        alpha, beta = corrected_posteriors(n, c, e, 1.0, 1.0)
        prob_best = arm_statistics(alpha, beta, rng, draws=4000).prob_best
        wrong += bool(prob_best.max() > 0.95 and np.argmax(prob_best) != np.argmax(rates))
    return wrong


def test_position_correction_stops_confident_wrong_winners() -> None:
    # Ten deals at 1..10%, k = 3, examination 1 / 0.75 / 0.6, 5,000 ranks. Over 100 seeds
    # (bench.position_study) plain posteriors named a wrong deal with P(best) > 0.95 in 25% of
    # the runs and corrected ones in 2%. For 40 seeds the bounds below fail by chance with
    # probability < 2% each (binomial tails: P(X < 5 | 40, 0.25), P(X > 4 | 40, 0.04)).
    rates = [round(0.01 * i, 2) for i in range(10, 0, -1)]
    seeds = list(range(40))
    runs = {
        corrected: simulate(
            ThompsonSampling(),
            rates,
            5000,
            seeds,
            k=3,
            examination=EXAMINATION,
            position_correction=corrected,
        )
        for corrected in (False, True)
    }
    assert wrong_confident_winners(runs[False], rates, corrected=False) >= 5
    assert wrong_confident_winners(runs[True], rates, corrected=True) <= 4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"known_examination": True}, "needs an examination"),
        ({"known_examination": True, "examination": EXAMINATION}, "needs an examination"),
        ({"known_examination": 1}, "true or false"),
        ({"shuffle_share": 1.5}, "shuffle_share"),
        ({"examination": [1.0, 0.5]}, "one value per slot"),
        ({"examination": [1.0, 0.5, 0.0]}, r"\(0, 1\]"),
        ({"examination": [1.0, 1.2, 0.5]}, r"\(0, 1\]"),
        ({"examination": [0.5, 0.75, 0.6]}, "not increase"),
        ({"examination": "abc"}, "numbers"),
        ({"position_correction": "yes"}, "true or false"),
    ],
)
def test_invalid_position_settings_are_rejected(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        simulate(ThompsonSampling(), SIX, 10, [0], k=3, **kwargs)
