"""What each deal's purchases say: conversion per impression, revenue per impression and per
click, each with a 95% interval, from the deal's purchase counters (never the log).

Conversion is the Beta posterior of purchases per impression from the deal's own prior. Revenue
per impression is that rate times the mean value of a purchase under the log-normal model of
:mod:`hotdeals.bandit.revenue`, whose posterior mean is infinite: the figures are posterior
medians with equal-tailed intervals of Monte Carlo draws, seeded from the counts so that a
refresh shows the same numbers. Revenue per click divides by a draw of the click rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from hotdeals.bandit import ValuePrior, credible_interval, posterior_mean
from hotdeals.bandit.revenue import sample_value_parameters
from hotdeals.services.posteriors import PurchaseState

__all__ = ["PurchaseFigures", "purchase_figures", "value_prior"]

_DRAWS = 4_000
_LEVELS = (0.5, 0.025, 0.975)


class PurchaseCounters(PurchaseState, Protocol):
    """What the figures read of a deal beyond its posteriors: a ``bandits`` row."""

    @property
    def log_value_sum(self) -> float: ...
    @property
    def log_value_square_sum(self) -> float: ...


@dataclass(frozen=True, slots=True)
class PurchaseFigures:
    """One deal's purchase figures (values in the campaign's currency)."""

    conversion: float
    ci_low_conversion: float
    ci_high_conversion: float
    revenue_per_impression: float
    ci_low_revenue_per_impression: float
    ci_high_revenue_per_impression: float
    revenue_per_click: float
    ci_low_revenue_per_click: float
    ci_high_revenue_per_click: float


def value_prior(deals: Sequence[PurchaseCounters]) -> ValuePrior:
    """A weak prior around the campaign's typical purchase (the geometric mean of all its
    purchases' values; 1 before the first), shared by its deals: a shop knows its price
    level, not which deal sells dearer."""
    bought = sum(d.purchases for d in deals)
    typical = math.exp(sum(d.log_value_sum for d in deals) / bought) if bought else 1.0
    return ValuePrior.around(typical)


def purchase_figures(
    deals: Sequence[PurchaseCounters], seed: Sequence[int], draws: int = _DRAWS
) -> list[PurchaseFigures]:
    """The figures of every deal, in order; one seeded generator for all of them."""
    if not deals:
        return []
    rng = np.random.default_rng([*seed, 3])
    n = np.array([d.n for d in deals], dtype=np.float64)
    bought = np.array([d.purchases for d in deals], dtype=np.float64)
    alpha = np.array([d.prior_alpha for d in deals]) + bought
    beta = np.array([d.prior_beta for d in deals]) + np.maximum(n - bought, 0.0)
    conversion = posterior_mean(alpha, beta)
    low, high = credible_interval(alpha, beta)
    shape = (draws, len(deals))
    # Counters db-check would flag (sums without purchases, rounding below Cauchy-Schwarz) are
    # read as the nearest consistent ones: a page of figures must not fail on them.
    total = np.where(bought > 0, [d.log_value_sum for d in deals], 0.0)
    squares = np.where(bought > 0, [d.log_value_square_sum for d in deals], 0.0)
    squares = np.maximum(
        squares, np.divide(total**2, bought, out=np.zeros_like(total), where=bought > 0)
    )
    mu, sigma2 = sample_value_parameters(
        value_prior(deals),
        np.broadcast_to(bought, shape),
        np.broadcast_to(total, shape),
        np.broadcast_to(squares, shape),
        rng,
    )
    with np.errstate(divide="ignore"):
        per_impression = np.log(rng.beta(alpha, beta, size=shape)) + mu + 0.5 * sigma2
        clicked = rng.beta(
            [d.alpha for d in deals], [d.beta for d in deals], size=shape
        )  # the deal's click posterior
        per_click = per_impression - np.log(clicked)
    with np.errstate(over="ignore"):
        impression_q = np.exp(np.quantile(per_impression, _LEVELS, axis=0))
        click_q = np.exp(np.quantile(per_click, _LEVELS, axis=0))
    return [
        PurchaseFigures(
            float(conversion[i]),
            float(low[i]),
            float(high[i]),
            *(float(q) for q in impression_q[:, i]),
            *(float(q) for q in click_q[:, i]),
        )
        for i in range(len(deals))
    ]
