"""The four ranking policies: contract (distinct, capped, reproducible) and behaviour."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotdeals.bandit import (
    POLICY_NAMES,
    UCB1,
    ArmSet,
    EpsilonGreedy,
    InvalidArmsError,
    InvalidParameterError,
    Policy,
    ThompsonSampling,
    Uniform,
    UnknownPolicyError,
    make_policy,
)

POLICIES: list[Policy] = [ThompsonSampling(), UCB1(), EpsilonGreedy(0.3), Uniform()]
POLICY_IDS = ["thompson", "ucb1", "epsilon_greedy", "uniform"]


def _varied_arms(n: int, seed: int = 0) -> ArmSet:
    rng = np.random.default_rng(seed)
    pulls = rng.integers(0, 200, n)
    return ArmSet.from_counts(rng.binomial(pulls, 0.1), pulls)


@pytest.mark.parametrize("policy", POLICIES, ids=POLICY_IDS)
def test_same_seed_gives_the_same_rankings(policy: Policy) -> None:
    arms = _varied_arms(50)
    first_rng, second_rng = np.random.default_rng(7), np.random.default_rng(7)
    first = [policy.rank(arms, 5, first_rng) for _ in range(20)]
    second = [policy.rank(arms, 5, second_rng) for _ in range(20)]
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("policy", POLICIES, ids=POLICY_IDS)
def test_rank_is_the_first_row_of_rank_batch(policy: Policy) -> None:
    arms = _varied_arms(30)
    single = policy.rank(arms, 4, np.random.default_rng(3))
    batch = policy.rank_batch(
        arms.alpha[None, :],
        arms.beta[None, :],
        arms.pulls[None, :],
        arms.successes[None, :],
        4,
        np.random.default_rng(3),
    )
    assert batch.shape == (1, 4)
    np.testing.assert_array_equal(single, batch[0])


@pytest.mark.parametrize("policy", POLICIES, ids=POLICY_IDS)
@pytest.mark.parametrize(
    ("n_arms", "k", "expected"), [(10, 3, 3), (3, 10, 3), (1, 1, 1), (5, 5, 5)]
)
def test_rank_returns_min_k_n_distinct_valid_indices(
    policy: Policy, n_arms: int, k: int, expected: int
) -> None:
    arms = _varied_arms(n_arms)
    rng = np.random.default_rng(11)
    for _ in range(50):
        ranking = policy.rank(arms, k, rng)
        assert ranking.shape == (expected,)
        assert ranking.dtype == np.intp
        assert len(set(ranking.tolist())) == expected
        assert ranking.min() >= 0
        assert ranking.max() < n_arms


@pytest.mark.parametrize("policy", POLICIES, ids=POLICY_IDS)
def test_rank_batch_rows_are_distinct_rankings(policy: Policy) -> None:
    rng = np.random.default_rng(5)
    pulls = rng.integers(0, 50, (40, 12))
    successes = rng.binomial(pulls, 0.2)
    alpha = (1 + successes).astype(np.float64)
    beta = (1 + pulls - successes).astype(np.float64)
    ranking = policy.rank_batch(alpha, beta, pulls, successes, 4, rng)
    assert ranking.shape == (40, 4)
    sorted_rows = np.sort(ranking, axis=1)
    assert (np.diff(sorted_rows, axis=1) > 0).all()


@pytest.mark.parametrize("policy", POLICIES, ids=POLICY_IDS)
def test_empty_arm_set_gives_an_empty_ranking(policy: Policy) -> None:
    ranking = policy.rank(ArmSet.from_counts([], []), 3, np.random.default_rng(0))
    assert ranking.shape == (0,)


@pytest.mark.parametrize("policy", POLICIES, ids=POLICY_IDS)
@pytest.mark.parametrize("k", [0, -1, 2.5, True, "3", None])
def test_invalid_k_is_rejected(policy: Policy, k: Any) -> None:
    with pytest.raises(InvalidParameterError, match="k must be an integer >= 1"):
        policy.rank(_varied_arms(5), k, np.random.default_rng(0))
    with pytest.raises(InvalidParameterError):
        policy.rank(ArmSet.from_counts([], []), k, np.random.default_rng(0))


@pytest.mark.parametrize("policy", POLICIES, ids=POLICY_IDS)
def test_numpy_integer_k_is_accepted(policy: Policy) -> None:
    k: Any = np.int64(2)  # what a caller holding NumPy counts would pass
    assert policy.rank(_varied_arms(5), k, np.random.default_rng(0)).shape == (2,)


@pytest.mark.parametrize("policy", POLICIES, ids=POLICY_IDS)
def test_rank_batch_rejects_mismatched_shapes(policy: Policy) -> None:
    ones = np.ones((2, 3))
    counts = np.zeros((2, 3), dtype=np.int64)
    with pytest.raises(InvalidArmsError, match="same shape"):
        policy.rank_batch(ones, np.ones((2, 4)), counts, counts, 1, np.random.default_rng(0))
    with pytest.raises(InvalidArmsError, match="same shape"):
        policy.rank_batch(ones[0], ones[0], counts[0], counts[0], 1, np.random.default_rng(0))


def test_thompson_ranks_a_clear_winner_first() -> None:
    arms = ArmSet.from_counts(successes=[10, 100, 20], pulls=[1000, 1000, 1000])
    rng = np.random.default_rng(0)
    rankings = np.array([ThompsonSampling().rank(arms, 3, rng) for _ in range(200)])
    assert (rankings[:, 0] == 1).all()
    assert (rankings[:, 1] == 2).mean() > 0.95


def test_thompson_shows_arms_in_proportion_to_their_chance_of_being_best() -> None:
    # Two identical posteriors: each must come first about half the time.
    arms = ArmSet.from_counts(successes=[5, 5], pulls=[50, 50])
    rng = np.random.default_rng(1)
    firsts = [int(ThompsonSampling().rank(arms, 1, rng)[0]) for _ in range(4000)]
    assert 0.45 < np.mean(firsts) < 0.55


def test_ucb1_tries_every_unpulled_arm_before_any_pulled_one() -> None:
    arms = ArmSet.from_counts(successes=[90, 0, 50, 0, 0], pulls=[100, 0, 100, 0, 0])
    rng = np.random.default_rng(2)
    for _ in range(100):
        ranking = UCB1().rank(arms, 4, rng)
        assert set(ranking[:3].tolist()) == {1, 3, 4}
        assert ranking[3] == 0


def test_ucb1_breaks_ties_between_unpulled_arms_at_random() -> None:
    arms = ArmSet.from_counts([0] * 4, [0] * 4)
    rng = np.random.default_rng(3)
    firsts = Counter(int(UCB1().rank(arms, 1, rng)[0]) for _ in range(4000))
    assert set(firsts) == {0, 1, 2, 3}
    assert all(850 < count < 1150 for count in firsts.values())


def test_ucb1_index_matches_the_formula() -> None:
    # mean + sqrt(2 ln N / n): arm 0 has 0.5 + sqrt(2 ln 110 / 10) = 1.47, arm 1 has
    # 0.6 + sqrt(2 ln 110 / 100) = 0.907, so the rarely pulled arm 0 wins despite its lower mean.
    arms = ArmSet.from_counts(successes=[5, 60], pulls=[10, 100])
    ranking = UCB1().rank(arms, 2, np.random.default_rng(0))
    np.testing.assert_array_equal(ranking, [0, 1])
    # With equal pulls the bonus is equal and the mean decides.
    arms = ArmSet.from_counts(successes=[5, 6], pulls=[100, 100])
    np.testing.assert_array_equal(UCB1().rank(arms, 2, np.random.default_rng(0)), [1, 0])


def test_epsilon_zero_is_greedy_by_posterior_mean() -> None:
    # Posterior means 2/12, 41/102, 3/4: the one click in two impressions wins on the mean.
    arms = ArmSet.from_counts(successes=[1, 40, 2], pulls=[10, 100, 2])
    rng = np.random.default_rng(4)
    for _ in range(50):
        np.testing.assert_array_equal(EpsilonGreedy(0.0).rank(arms, 3, rng), [2, 1, 0])


def test_epsilon_one_explores_uniformly() -> None:
    arms = ArmSet.from_counts(successes=[1, 40, 2], pulls=[10, 100, 2])
    rng = np.random.default_rng(5)
    pairs = Counter(tuple(EpsilonGreedy(1.0).rank(arms, 2, rng).tolist()) for _ in range(6000))
    assert len(pairs) == 6
    assert all(850 < count < 1150 for count in pairs.values())


def test_epsilon_greedy_explores_about_epsilon_of_the_slots() -> None:
    # The best arm is greedy for every slot it is available for; a random arm differs from
    # the greedy choice with probability (n - 1) / n when exploring.
    arms = ArmSet.from_counts(successes=[0, 0, 0, 0, 90], pulls=[100] * 5)
    rng = np.random.default_rng(6)
    firsts = np.array([EpsilonGreedy(0.2).rank(arms, 1, rng)[0] for _ in range(5000)])
    not_best = (firsts != 4).mean()
    assert 0.2 * 0.8 - 0.02 < not_best < 0.2 * 0.8 + 0.02


def test_epsilon_greedy_slot_probabilities_match_the_definition() -> None:
    # Means 0.9 > 0.5 > 0.1, epsilon 1/2, two slots. Slot 1 is arm 0 with 1/2 + 1/2 * 1/3;
    # slot 2 is the best remaining arm with 1/2 + 1/2 * 1/2, so P(0, 1) = 2/3 * 3/4 = 1/2, etc.
    arms = ArmSet.from_counts(successes=[9000, 5000, 1000], pulls=[10_000] * 3)
    rng = np.random.default_rng(12)
    draws = 20_000
    seen = Counter(tuple(EpsilonGreedy(0.5).rank(arms, 2, rng).tolist()) for _ in range(draws))
    expected = {
        (0, 1): 1 / 2,
        (0, 2): 1 / 6,
        (1, 0): 1 / 8,
        (1, 2): 1 / 24,
        (2, 0): 1 / 8,
        (2, 1): 1 / 24,
    }
    assert set(seen) == set(expected)
    for pair, probability in expected.items():
        assert seen[pair] / draws == pytest.approx(probability, abs=0.015), pair


def test_uniform_ignores_the_counts() -> None:
    arms = ArmSet.from_counts(successes=[0, 100, 0], pulls=[100, 100, 100])
    rng = np.random.default_rng(7)
    firsts = Counter(int(Uniform().rank(arms, 1, rng)[0]) for _ in range(3000))
    assert all(850 < count < 1150 for count in firsts.values())


@pytest.mark.parametrize("epsilon", [-0.1, 1.1, float("nan"), "0.1", None, True])
def test_invalid_epsilon_is_rejected(epsilon: Any) -> None:
    with pytest.raises(InvalidParameterError, match="epsilon"):
        EpsilonGreedy(epsilon)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("thompson", ThompsonSampling()),
        ("ucb1", UCB1()),
        ("epsilon_greedy", EpsilonGreedy(0.1)),
        ("uniform", Uniform()),
    ],
)
def test_make_policy_builds_each_named_policy(name: str, expected: Policy) -> None:
    assert make_policy(name) == expected
    assert name in POLICY_NAMES


def test_make_policy_passes_epsilon_and_validates_it() -> None:
    assert make_policy("epsilon_greedy", epsilon=0.25) == EpsilonGreedy(0.25)
    with pytest.raises(InvalidParameterError):
        make_policy("epsilon_greedy", epsilon=2.0)


def test_policy_names_cover_exactly_make_policy() -> None:
    assert POLICY_NAMES == ("thompson", "ucb1", "epsilon_greedy", "uniform")
    for name in POLICY_NAMES:
        make_policy(name)


@pytest.mark.parametrize("name", ["Thompson", "ucb", "", "random"])
def test_unknown_policy_names_list_the_valid_ones(name: str) -> None:
    with pytest.raises(UnknownPolicyError, match="thompson, ucb1, epsilon_greedy, uniform"):
        make_policy(name)


def test_ten_thousand_arms_are_ranked_by_every_policy() -> None:
    arms = _varied_arms(10_000)
    rng = np.random.default_rng(8)
    for policy in POLICIES:
        ranking = policy.rank(arms, 3, rng)
        assert len(set(ranking.tolist())) == 3


counts = st.lists(
    st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)), min_size=0, max_size=30
)


@settings(deadline=None, database=None, max_examples=60)
@given(
    pairs=counts,
    k=st.integers(1, 40),
    policy_index=st.integers(0, len(POLICIES) - 1),
    prior=st.floats(0.01, 100.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_valid_arms_give_min_k_n_distinct_indices(
    pairs: list[tuple[int, int]], k: int, policy_index: int, prior: float, seed: int
) -> None:
    successes = [s for s, _ in pairs]
    pulls = [s + f for s, f in pairs]
    arms = ArmSet.from_counts(successes, pulls, prior, prior)
    ranking = POLICIES[policy_index].rank(arms, k, np.random.default_rng(seed))
    expected = min(k, len(arms))
    assert ranking.shape == (expected,)
    assert len(set(ranking.tolist())) == expected
    assert all(0 <= i < len(arms) for i in ranking.tolist())
