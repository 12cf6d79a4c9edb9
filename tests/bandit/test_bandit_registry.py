"""PolicyName, the registry behind make_policy, and the one ``rank`` every policy inherits."""

from __future__ import annotations

import numpy as np
import pytest

from hotdeals.bandit import (
    POLICY_NAMES,
    UCB1,
    ArmSet,
    EpsilonGreedy,
    PolicyName,
    ThompsonSampling,
    Uniform,
    UnknownPolicyError,
    make_policy,
)
from hotdeals.bandit.policy import BatchPolicy
from hotdeals.bandit.registry import POLICY_REGISTRY

POLICY_CLASSES: list[type[BatchPolicy]] = [ThompsonSampling, UCB1, EpsilonGreedy, Uniform]


def test_policy_name_values_are_the_stored_names() -> None:
    assert [member.value for member in PolicyName] == [
        "thompson",
        "ucb1",
        "epsilon_greedy",
        "uniform",
    ]
    assert PolicyName("ucb1") is PolicyName.UCB1
    assert isinstance(PolicyName.EPSILON_GREEDY, str)
    assert str(PolicyName.THOMPSON) == "thompson"


def test_policy_names_are_plain_strings_derived_from_the_enum() -> None:
    assert tuple(PolicyName) == POLICY_NAMES
    assert all(type(name) is str for name in POLICY_NAMES)


def test_registry_has_one_constructor_per_name() -> None:
    assert set(POLICY_REGISTRY) == set(PolicyName)
    with pytest.raises(TypeError):
        POLICY_REGISTRY[PolicyName.UCB1] = POLICY_REGISTRY[PolicyName.UNIFORM]  # type: ignore[index]


@pytest.mark.parametrize("name", list(PolicyName))
def test_make_policy_round_trips_every_name(name: PolicyName) -> None:
    for spelled in (name, name.value):
        policy = make_policy(spelled)
        assert isinstance(policy, BatchPolicy)
        assert policy.name == name
        assert policy.name == name.value
        assert type(policy).name is name


def test_only_epsilon_greedy_reads_epsilon() -> None:
    assert make_policy(PolicyName.EPSILON_GREEDY, epsilon=0.4) == EpsilonGreedy(0.4)
    assert make_policy(PolicyName.THOMPSON, epsilon=0.4) == ThompsonSampling()


@pytest.mark.parametrize("name", ["THOMPSON", "ucb", "epsilon-greedy", " uniform", ""])
def test_make_policy_refuses_unknown_names_and_lists_the_valid_ones(name: str) -> None:
    with pytest.raises(UnknownPolicyError, match=f"unknown policy {name!r}") as raised:
        make_policy(name)
    assert str(raised.value).endswith("valid names are: " + ", ".join(POLICY_NAMES))


@pytest.mark.parametrize("cls", POLICY_CLASSES, ids=lambda cls: cls.__name__)
def test_rank_is_inherited_and_only_rank_batch_is_defined(cls: type[BatchPolicy]) -> None:
    assert issubclass(cls, BatchPolicy)
    assert "rank" not in cls.__dict__
    assert "rank_batch" in cls.__dict__
    assert cls.rank is BatchPolicy.rank


@pytest.mark.parametrize("cls", POLICY_CLASSES, ids=lambda cls: cls.__name__)
def test_policies_stay_frozen_slotted_dataclasses(cls: type[BatchPolicy]) -> None:
    policy = cls()
    assert not hasattr(policy, "__dict__")
    assert policy == cls()
    assert hash(policy) == hash(cls())


@pytest.mark.parametrize("cls", POLICY_CLASSES, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("seed", [0, 17, 2024])
def test_rank_equals_the_one_row_result_of_rank_batch(cls: type[BatchPolicy], seed: int) -> None:
    rng = np.random.default_rng(seed)
    pulls = rng.integers(0, 100, 25)
    arms = ArmSet.from_counts(rng.binomial(pulls, 0.2), pulls)
    policy = cls()
    single = policy.rank(arms, 5, np.random.default_rng(seed))
    batch = policy.rank_batch(
        arms.alpha[np.newaxis, :],
        arms.beta[np.newaxis, :],
        arms.pulls[np.newaxis, :],
        arms.successes[np.newaxis, :],
        5,
        np.random.default_rng(seed),
    )
    assert single.shape == (5,)
    np.testing.assert_array_equal(single, batch[0])


def test_batch_policy_is_abstract() -> None:
    with pytest.raises(TypeError, match="abstract"):
        BatchPolicy()  # type: ignore[abstract]
