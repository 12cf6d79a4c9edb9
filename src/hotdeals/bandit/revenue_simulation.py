"""Simulated shops that click, buy and pay, to measure what each objective earns in money.

A campaign that optimises clicks can lose money: the deal clicked most may be bought rarely, or
cheaply. This simulator knows each deal's click rate, its purchase rate given a click and the
log-normal value of a purchase, so it can count the expected revenue each objective gives up
against always showing the revenue-best deals. The layout is :mod:`hotdeals.bandit.simulate`'s:
all seeds side by side as rows of (seeds, arms) matrices, one Python loop over the steps,
random numbers drawn a block at a time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hotdeals.bandit.arrays import CountArray, FloatArray, as_float_vector
from hotdeals.bandit.checks import check_number
from hotdeals.bandit.errors import InvalidParameterError
from hotdeals.bandit.revenue import (
    Objective,
    RevenueThompson,
    ValuePrior,
    expected_revenue_per_impression,
)
from hotdeals.bandit.simulate import _check_seeds  # the same validation

__all__ = ["ShopResult", "simulate_shop"]

_BLOCK = 1024  # steps whose random numbers are drawn at once


@dataclass(frozen=True)
class ShopResult:
    """Revenue regret and allocation of one objective, one row per seed."""

    checkpoints: CountArray
    """Number of steps done at each checkpoint, increasing, the last one being the horizon."""
    cumulative_regret: FloatArray
    """(seeds, checkpoints): expected revenue lost so far, against the ``k`` revenue-best arms."""
    final_regret: FloatArray
    """(seeds,): cumulative revenue regret at the horizon."""
    revenue: FloatArray
    """(seeds,): expected revenue earned over the horizon (impressions x revenue per impression)."""
    best_arm_share: FloatArray
    """(seeds,): share of all impressions that went to the arm with the most revenue per
    impression."""
    pulls: CountArray
    """(seeds, arms): impressions per arm at the end."""


def simulate_shop(
    objective: Objective,
    click_rates: Sequence[float],
    purchase_rates: Sequence[float],
    value_log_means: Sequence[float],
    value_log_sds: Sequence[float],
    horizon: int,
    seeds: Sequence[int],
    k: int = 1,
    value_prior: ValuePrior | None = None,
    checkpoints: int = 200,
) -> ShopResult:
    """Run :class:`RevenueThompson` on ``objective`` for ``horizon`` steps of ``k`` slots.

    Each impression of deal ``i`` is clicked with probability ``click_rates[i]``; a click
    converts with probability ``purchase_rates[i]``; a purchase is worth ``exp(N(
    value_log_means[i], value_log_sds[i] ** 2))``. The policy starts from Beta(1, 1) and, for
    revenue, from ``value_prior`` (default: :meth:`ValuePrior.around` the geometric mean of the
    deals' median values, as a shop knows its price level but not which deal sells dearer), and
    sees every event at once. Regret per step is the best ``k`` deals' revenue per impression
    minus the shown deals', in expectation. One generator is seeded from the whole ``seeds``
    list, so the same list reproduces the same result.
    """
    clicks_p = _rates(click_rates, "click_rates")
    buys_p = _rates(purchase_rates, "purchase_rates", len(clicks_p))
    log_means = _values(value_log_means, "value_log_means", len(clicks_p))
    log_sds = _values(value_log_sds, "value_log_sds", len(clicks_p))
    if not bool(np.all(log_sds >= 0)):
        raise InvalidParameterError(f"value_log_sds must be >= 0, got {log_sds.tolist()}")
    horizon = check_number(horizon, "horizon", low=1, integer=True)
    k = check_number(k, "k", low=1, integer=True)
    points = check_number(checkpoints, "checkpoints", low=1, integer=True)
    seed_list = _check_seeds(seeds)
    if value_prior is None:
        value_prior = ValuePrior.around(math.exp(float(log_means.mean())))
    policy = RevenueThompson(objective, value_prior)
    rng = np.random.default_rng(seed_list)

    n_seeds, arms = len(seed_list), len(clicks_p)
    slots = min(k, arms)
    buy_rates = clicks_p * buys_p  # per impression
    worth = expected_revenue_per_impression(buy_rates, log_means, log_sds)
    best_total = float(np.sort(worth)[::-1][:slots].sum())
    row = np.arange(n_seeds)[:, np.newaxis]
    impressions = np.zeros((n_seeds, arms), dtype=np.int64)
    clicks = np.zeros((n_seeds, arms), dtype=np.int64)
    purchases = np.zeros((n_seeds, arms), dtype=np.int64)
    log_sum = np.zeros((n_seeds, arms), dtype=np.float64)
    log_square_sum = np.zeros((n_seeds, arms), dtype=np.float64)

    steps_at = np.unique(np.round(np.linspace(1, horizon, min(points, horizon))).astype(np.int64))
    curve = np.empty((n_seeds, len(steps_at)), dtype=np.float64)
    regret_so_far = np.zeros(n_seeds, dtype=np.float64)
    earned_block = np.empty((_BLOCK, n_seeds), dtype=np.float64)
    for start in range(0, horizon, _BLOCK):
        steps = min(_BLOCK, horizon - start)
        uniforms = rng.random((steps, n_seeds, slots))
        normals = rng.standard_normal((steps, n_seeds, slots))
        for offset in range(steps):
            shown = policy.rank_batch(
                impressions, clicks, purchases, log_sum, log_square_sum, k, rng
            )
            u = uniforms[offset]
            # One uniform per impression: u < c is a click, u < c * p a purchase, which needs
            # the click and given it has probability p.
            clicked = u < clicks_p[shown]
            bought = u < buy_rates[shown]
            log_value = np.where(bought, log_means[shown] + log_sds[shown] * normals[offset], 0.0)
            impressions[row, shown] += 1
            clicks[row, shown] += clicked
            purchases[row, shown] += bought
            log_sum[row, shown] += log_value
            log_square_sum[row, shown] += log_value * log_value
            earned_block[offset] = worth[shown].sum(axis=1)
        block = regret_so_far[:, np.newaxis] + np.cumsum(
            best_total - earned_block[:steps].T, axis=1
        )
        inside = (steps_at > start) & (steps_at <= start + steps)
        curve[:, inside] = block[:, steps_at[inside] - start - 1]
        regret_so_far = block[:, -1]

    best_arm = int(np.argmax(worth))
    return ShopResult(
        checkpoints=steps_at,
        cumulative_regret=curve,
        final_regret=regret_so_far.copy(),
        revenue=impressions @ worth,
        best_arm_share=impressions[:, best_arm] / (horizon * slots),
        pulls=impressions,
    )


def _rates(values: Sequence[float], name: str, arms: int | None = None) -> FloatArray:
    rates = _values(values, name, arms)
    if not bool(np.all((rates >= 0) & (rates <= 1))):
        raise InvalidParameterError(f"{name} must be in [0, 1], got {rates.tolist()}")
    return rates


def _values(values: Sequence[float], name: str, arms: int | None = None) -> FloatArray:
    if isinstance(values, str | bytes):
        raise InvalidParameterError(f"{name} must be numbers, got {values!r}")
    array = as_float_vector(values, name, InvalidParameterError)
    if arms is None and len(array) == 0:
        raise InvalidParameterError(f"{name} must name at least one deal")
    if arms is not None and len(array) != arms:
        raise InvalidParameterError(
            f"{name} must have one value per deal ({arms}, as click_rates), got {len(array)}"
        )
    if not bool(np.all(np.isfinite(array))):
        raise InvalidParameterError(f"{name} must be finite, got {array.tolist()}")
    return array
