"""Offline replay (Li et al., WSDM 2011) on synthetic uniform-random logs with known rates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from hotdeals.bandit import (
    ArmSet,
    InvalidArmsError,
    InvalidParameterError,
    NoReplayMatchError,
    ThompsonSampling,
    Uniform,
    replay,
)
from hotdeals.bandit.arrays import CountArray, FloatArray, IndexArray

LABELS = np.array([101, 205, 3, 47, 999])  # arbitrary item ids, not in rate order
RATES = np.array([0.02, 0.04, 0.06, 0.10, 0.08])  # item 47 is the best
BEST_LABEL = 47


@dataclass(frozen=True)
class FixedOrder:
    """A policy that always shows the arms in one order (indices into the sorted item ids)."""

    order: tuple[int, ...]

    def rank(self, arms: ArmSet, k: int, rng: np.random.Generator) -> IndexArray:
        return np.array(self.order[: min(k, len(arms))], dtype=np.intp)

    def rank_batch(
        self,
        alpha: FloatArray,
        beta: FloatArray,
        pulls: CountArray,
        successes: CountArray,
        k: int,
        rng: np.random.Generator,
    ) -> IndexArray:
        row = np.array(self.order[: min(k, alpha.shape[1])], dtype=np.intp)
        return np.tile(row, (alpha.shape[0], 1))


def _arm_index(label: int) -> int:
    return int(np.searchsorted(np.sort(LABELS), label))


def _uniform_log(events: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    shown = rng.integers(0, len(LABELS), events)
    clicks = (rng.random(events) < RATES[shown]).astype(np.int64)
    return LABELS[shown], clicks


def test_a_fixed_policy_keeps_exactly_its_own_events_and_recovers_its_rate() -> None:
    items, clicks = _uniform_log(200_000, seed=1)
    policy = FixedOrder((_arm_index(BEST_LABEL),))
    result = replay(policy, items, clicks, np.random.default_rng(2))
    mine = items == BEST_LABEL
    assert result.total == 200_000
    assert result.kept == int(mine.sum())
    assert result.clicks == int(clicks[mine].sum())
    assert result.ctr == pytest.approx(clicks[mine].mean())
    assert result.ci_low < 0.10 < result.ci_high
    assert result.ci_high - result.ci_low < 0.01
    assert result.log_ctr == pytest.approx(clicks.mean())


def test_thompson_beats_the_uniform_policy_that_collected_the_log() -> None:
    items, clicks = _uniform_log(200_000, seed=3)
    result = replay(ThompsonSampling(), items, clicks, np.random.default_rng(4))
    assert result.log_ctr == pytest.approx(RATES.mean(), abs=0.002)
    assert result.ci_low > result.log_ctr
    assert result.ctr > 0.085  # it settles on the 0.10 item after a short warm-up
    assert result.ctr < 0.10 + 0.01
    # About one event in five matches the policy's choice among five items.
    assert 0.18 < result.kept / result.total < 0.22


def test_replaying_the_uniform_policy_estimates_the_log_ctr() -> None:
    items, clicks = _uniform_log(100_000, seed=5)
    result = replay(Uniform(), items, clicks, np.random.default_rng(6))
    assert result.ci_low < result.log_ctr < result.ci_high


def test_replay_is_reproducible() -> None:
    items, clicks = _uniform_log(20_000, seed=7)
    first = replay(ThompsonSampling(), items, clicks, np.random.default_rng(8))
    second = replay(ThompsonSampling(), items, clicks, np.random.default_rng(8))
    assert first == second


def test_with_positions_an_event_counts_when_its_slot_holds_the_logged_item() -> None:
    rng = np.random.default_rng(9)
    events = 30_000
    positions = rng.integers(1, 4, events)
    items, clicks = _uniform_log(events, seed=10)
    order = (_arm_index(47), _arm_index(999), _arm_index(205))
    result = replay(FixedOrder(order), items, clicks, rng, positions=positions)
    expected_item = np.sort(LABELS)[np.array(order)][positions - 1]
    matched = items == expected_item
    assert result.kept == int(matched.sum())
    assert result.clicks == int(clicks[matched].sum())


def test_string_labels_and_boolean_clicks_are_accepted() -> None:
    items = np.array(["kiwi", "apple", "kiwi", "apple", "kiwi"])
    clicks = np.array([True, False, False, True, True])
    # Sorted labels: apple = 0, kiwi = 1.
    result = replay(FixedOrder((1,)), items, clicks, np.random.default_rng(0))
    assert (result.kept, result.clicks) == (3, 2)
    assert result.ctr == pytest.approx(2 / 3)


def test_positions_beyond_the_number_of_arms_never_match() -> None:
    items = np.array([1, 2, 1, 2])
    result = replay(
        FixedOrder((0, 1)), items, [1, 0, 1, 0], np.random.default_rng(0), positions=[1, 3, 1, 3]
    )
    assert result.kept == 2


def test_a_log_the_policy_never_agrees_with_is_an_error() -> None:
    # Sorted labels: a = 0, b = 1; the policy shows a first and b second, the log the reverse.
    with pytest.raises(NoReplayMatchError, match="no events matched"):
        replay(
            FixedOrder((0, 1)),
            ["b", "b", "a"],
            [1, 0, 1],
            np.random.default_rng(0),
            positions=[1, 1, 2],
        )


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"item_ids": []}, InvalidArmsError),
        ({"item_ids": [[1, 2]]}, InvalidArmsError),
        ({"clicks": [1, 0]}, InvalidArmsError),
        ({"clicks": [1, 0, 2]}, InvalidArmsError),
        ({"positions": [1, 2]}, InvalidArmsError),
        ({"positions": [1, 0, 1]}, InvalidArmsError),
        ({"n_boot": 0}, InvalidParameterError),
        ({"level": 1.0}, InvalidParameterError),
        ({"prior_alpha": 0.0}, InvalidParameterError),
    ],
)
def test_invalid_logs_are_rejected(kwargs: dict[str, Any], error: type[Exception]) -> None:
    arguments: dict[str, Any] = {
        "policy": ThompsonSampling(),
        "item_ids": [1, 2, 1],
        "clicks": [1, 0, 1],
        "rng": np.random.default_rng(0),
    }
    arguments.update(kwargs)
    with pytest.raises(error):
        replay(**arguments)
