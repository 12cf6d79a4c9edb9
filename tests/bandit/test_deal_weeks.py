"""Simulated deal weeks: churn, drift, delay, informed priors, forgetting and their invariants."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hotdeals.bandit import (
    DealWeeks,
    Drift,
    InvalidParameterError,
    NewDealPrior,
    ThompsonSampling,
    Uniform,
    decay,
    simulate,
    simulate_weeks,
)
from hotdeals.bandit.arrays import CountArray, FloatArray, IndexArray

RATES = [0.02, 0.04, 0.08]


class Spy:
    """Thompson sampling that keeps a copy of everything it was shown."""

    def __init__(self) -> None:
        self.seen: list[tuple[FloatArray, FloatArray, CountArray]] = []
        self.inner = ThompsonSampling()

    def rank(self, arms: Any, k: int, rng: np.random.Generator) -> IndexArray:
        raise NotImplementedError

    def rank_batch(
        self,
        alpha: FloatArray,
        beta: FloatArray,
        pulls: CountArray,
        successes: CountArray,
        k: int,
        rng: np.random.Generator,
    ) -> IndexArray:
        self.seen.append((alpha.copy(), beta.copy(), pulls.copy()))
        return self.inner.rank_batch(alpha, beta, pulls, successes, k, rng)


def test_the_stationary_week_matches_the_stationary_simulator_in_distribution() -> None:
    seeds = list(range(60))
    plain = simulate(ThompsonSampling(), RATES, 3000, seeds).final_regret
    weeks = simulate_weeks(ThompsonSampling(), RATES, 3000, seeds).final_regret
    assert weeks.mean() == pytest.approx(plain.mean(), rel=0.25)
    uniform = simulate_weeks(Uniform(), RATES, 3000, seeds).final_regret.mean()
    assert uniform == pytest.approx(3000 * (0.08 - np.mean(RATES)), rel=0.03)


def test_same_seeds_reproduce_a_week_and_churn_happens_at_its_rate() -> None:
    world = DealWeeks(retire_prob=0.01, new_arm_prior=(4.0, 4.0), half_life=500.0)
    first = simulate_weeks(ThompsonSampling(), RATES, 4000, range(20), world, delay=7)
    second = simulate_weeks(ThompsonSampling(), RATES, 4000, range(20), world, delay=7)
    np.testing.assert_array_equal(first.cumulative_regret, second.cumulative_regret)
    assert first.replacements is not None
    assert first.final_rates is not None
    # 20 seeds x 4,000 steps x 1%: 800 retirements expected, sd 28.
    assert 700 <= int(first.replacements.sum()) <= 900
    assert not np.allclose(first.final_rates, RATES)


def test_regret_against_the_best_arm_alive_never_goes_down() -> None:
    world = DealWeeks(
        retire_prob=0.02,
        new_arm_prior=(4.0, 4.0),
        drifts=(Drift(step=500, arm=2, rate=0.0), Drift(step=900, arm=0, rate=0.9)),
    )
    result = simulate_weeks(
        Uniform(), RATES, 2000, range(10), world, k=2, examination=[1.0, 0.5], checkpoints=2000
    )
    assert bool(np.all(np.diff(result.cumulative_regret, axis=1) >= -1e-12))
    assert bool(np.all(result.cumulative_regret[:, 0] >= 0))
    assert bool(np.all(result.final_regret > 0))


def test_a_drift_is_followed_sooner_with_a_half_life_than_without() -> None:
    # Arm 1 is best (30%) for 2,000 steps, then drops to 5%: arm 0 (10%) becomes best.
    drifts = (Drift(step=2000, arm=1, rate=0.05),)
    rates = [0.10, 0.30]
    plain = simulate_weeks(ThompsonSampling(), rates, 5000, range(20), DealWeeks(drifts=drifts))
    forgetting = simulate_weeks(
        ThompsonSampling(), rates, 5000, range(20), DealWeeks(drifts=drifts, half_life=300.0)
    )
    for result in (plain, forgetting):
        assert result.shown_curve is not None
    # Share of arm 0 over the last 1,000 steps (checkpoints every 25 steps).
    share = {
        name: float(
            (r.shown_curve[:, -1, 0] - r.shown_curve[:, -41, 0]).mean()  # type: ignore[index]
            / (r.checkpoints[-1] - r.checkpoints[-41])
        )
        for name, r in (("plain", plain), ("forgetting", forgetting))
    }
    assert share["forgetting"] > 0.8
    assert share["plain"] < share["forgetting"] - 0.2
    after = np.searchsorted(plain.checkpoints, 2000)
    lost_plain = plain.final_regret - plain.cumulative_regret[:, after]
    lost_forgetting = forgetting.final_regret - forgetting.cumulative_regret[:, after]
    assert np.median(lost_forgetting) < 0.5 * np.median(lost_plain)


def test_discounted_impressions_sum_to_the_geometric_series() -> None:
    # k = 1: one impression per step, so the discounted impressions of all arms together after T
    # steps are sum_{j<T} g^j = (1 - g^T) / (1 - g) with g = decay(1, h), whatever was shown.
    spy = Spy()
    horizon, half_life = 300, 40.0
    simulate_weeks(spy, RATES, horizon + 1, [3, 4], DealWeeks(half_life=half_life))
    alpha, beta, _ = spy.seen[horizon]  # what the policy saw after 300 steps
    g = decay(1.0, half_life)
    expected = (1 - g**horizon) / (1 - g)
    np.testing.assert_allclose((alpha + beta - 2.0).sum(axis=1), expected, rtol=1e-9)


def test_with_a_delay_the_policy_sees_the_counters_of_the_last_batch() -> None:
    spy = Spy()
    simulate_weeks(spy, RATES, 200, [1, 2], delay=50)
    for step, (alpha, beta, pulls) in enumerate(spy.seen):
        assert bool(np.all(pulls.sum(axis=1) == (step // 50) * 50))
        np.testing.assert_allclose(alpha + beta - 2.0, pulls)


@pytest.mark.parametrize(("source", "campaign_like"), [("campaign", True), ("empirical", False)])
def test_new_arms_start_from_the_campaign_prior_or_the_fitted_one(
    source: str, campaign_like: bool
) -> None:
    spy = Spy()
    world = DealWeeks(
        retire_prob=0.01,
        new_arm_prior=(2.0, 98.0),
        prior=NewDealPrior(source),
        prior_refit_every=100,
    )
    rates = np.random.default_rng(0).beta(2.0, 98.0, (5, 8))
    simulate_weeks(spy, rates, 3000, range(5), world)
    fresh = [
        alpha[pulls == 0] + beta[pulls == 0]
        for alpha, beta, pulls in spy.seen[1000:]
        if (pulls == 0).any()
    ]
    strengths = np.concatenate(fresh)
    assert len(strengths) > 0
    assert bool(np.all(strengths == 2.0)) is campaign_like


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"retire_prob": 1.5}, "retire_prob must be in"),
        ({"half_life": 0.0}, "half_life must be"),
        ({"prior": "informed"}, "prior must be one of campaign, empirical"),
        ({"new_arm_prior": (0.0, 1.0)}, "new_arm_prior alpha must be"),
        ({"new_arm_prior": "4,4"}, "new_arm_prior must be two numbers"),
        ({"drifts": ((10, 0, 0.5),)}, "drifts must be Drift values"),
    ],
)
def test_a_bad_world_is_refused_by_name(options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        DealWeeks(**options)


@pytest.mark.parametrize(
    ("drift", "message"),
    [(Drift(10, 3, 0.1), "drift arm must be < the 3 arms"), (Drift(500, 0, 0.1), "drift step")],
)
def test_a_drift_outside_the_run_is_refused(drift: Drift, message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        simulate_weeks(ThompsonSampling(), RATES, 500, [0], DealWeeks(drifts=(drift,)))


def test_rates_per_seed_must_have_one_row_per_seed() -> None:
    with pytest.raises(InvalidParameterError, match="one row per seed"):
        simulate_weeks(ThompsonSampling(), [[0.1, 0.2]] * 3, 100, [0, 1])
