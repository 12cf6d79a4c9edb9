"""What each deal's purchases say: conversion per impression, revenue per impression and per
click, each with a 95% interval, from the deal's purchase counters (never the log).

Conversion is the Beta posterior of purchases per impression from the deal's own prior. Revenue
per impression is that rate times the mean value of a purchase under the log-normal model of
:mod:`hotdeals.bandit.revenue`, whose posterior mean is infinite: the figures are posterior
medians with equal-tailed intervals of Monte Carlo draws, seeded from the counts so that a
refresh shows the same numbers. Revenue per click divides by a draw of the click rate.

The draws cost ~250 ns per deal and draw, so with many deals they are capped at
``_BUDGET_ELEMENTS`` in all (deals with the same counters, fresh ones say, drawn once): 4,000
per deal up to 62 deals, 250 at 1,000. A quantile's Monte Carlo error grows as one over the
root of the draws: the median's is 1% of the 95% interval's half-width at 4,000 draws, 4% at
250, and each end of the interval's 2% and 9% (for a normal log revenue).
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
_BUDGET_ELEMENTS = 250_000  # draws x distinct deals: ~70 ms here
_MIN_DRAWS = 100
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
    """The figures of every deal, in order; one seeded generator for all of them, and one set
    of draws for deals with the same counters, which therefore get the same figures."""
    if not deals:
        return []
    rng = np.random.default_rng([*seed, 3])
    counters = np.array(
        [
            (
                *(d.n, d.purchases, d.prior_alpha, d.prior_beta, d.alpha, d.beta),
                *(d.log_value_sum, d.log_value_square_sum),
            )
            for d in deals
        ],
        dtype=np.float64,
    )
    distinct, which = np.unique(counters, axis=0, return_inverse=True)
    n, bought, prior_alpha, prior_beta, click_alpha, click_beta, total, squares = distinct.T
    alpha = prior_alpha + bought
    beta = prior_beta + np.maximum(n - bought, 0.0)
    conversion = posterior_mean(alpha, beta)
    low, high = credible_interval(alpha, beta)
    draws = min(draws, max(_MIN_DRAWS, _BUDGET_ELEMENTS // len(distinct)))
    shape = (draws, len(distinct))
    # Counters db-check would flag (sums without purchases, rounding below Cauchy-Schwarz) are
    # read as the nearest consistent ones: a page of figures must not fail on them.
    total = np.where(bought > 0, total, 0.0)
    squares = np.where(bought > 0, squares, 0.0)
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
        clicked = rng.beta(click_alpha, click_beta, size=shape)  # the deal's click posterior
        per_click = per_impression - np.log(clicked)
    with np.errstate(over="ignore"):
        impression_q = np.exp(np.quantile(per_impression, _LEVELS, axis=0))
        click_q = np.exp(np.quantile(per_click, _LEVELS, axis=0))
    figures = [
        PurchaseFigures(
            float(conversion[i]),
            float(low[i]),
            float(high[i]),
            *(float(q) for q in impression_q[:, i]),
            *(float(q) for q in click_q[:, i]),
        )
        for i in range(len(distinct))
    ]
    return [figures[i] for i in which.ravel()]
