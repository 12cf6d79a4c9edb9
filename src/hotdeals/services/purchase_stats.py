"""What each deal's purchases say: conversion per impression, revenue per impression and per
click, each with a 95% interval, from the deal's purchase counters (never the log).

Conversion is the Beta posterior of purchases per impression from the deal's own prior. Revenue
per impression is that rate times the mean value of a purchase under the log-normal model of
:mod:`hotdeals.bandit.revenue`, whose posterior mean is infinite: the figures are posterior
medians with equal-tailed intervals of Monte Carlo draws. Revenue per click divides by a draw of
the click rate.

Each deal's draws come from a generator seeded by all its figures depend on (its counters, the
campaign's value prior and the number of draws), so a deal's figures are the same whatever the
other deals and whenever they are computed, and :class:`PurchaseFigureCache` can keep them: a
dashboard refresh draws only for the deals whose counters moved. The draws per deal are 4,000
up to 32 deals, then shrink with the campaign's deals rounded up to a power of two (so that a
new deal rarely changes them), to 244 at 1,000 deals: a quantile's Monte Carlo error grows as
one over the root of the draws, the median's is 1% of the 95% interval's half-width at 4,000
draws and 4% at 244, and each end of the interval's 2% and 9% (for a normal log revenue).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from hotdeals.bandit import ValuePrior, credible_interval, posterior_mean
from hotdeals.bandit.arrays import column_quantiles
from hotdeals.bandit.revenue import draw_value_parameters, value_posterior
from hotdeals.services.posteriors import PurchaseState

__all__ = [
    "PurchaseFigureCache",
    "PurchaseFigures",
    "draws_per_deal",
    "purchase_figures",
    "value_prior",
]

_DRAWS = 4_000
_BUDGET_ELEMENTS = 250_000  # draws x deals (rounded up to a power of two)
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
    deals: Sequence[PurchaseCounters], cache: PurchaseFigureCache | None = None
) -> list[PurchaseFigures]:
    """The figures of every deal, in order; from ``cache`` for the deals whose counters it has
    seen with this value prior and number of draws. Deals with the same counters get the same
    figures."""
    if not deals:
        return []
    prior = value_prior(deals)
    draws = draws_per_deal(len(deals))
    rows = [_counters(d) for d in deals]
    return (cache or PurchaseFigureCache()).figures(rows, prior, draws)


def draws_per_deal(deals: int) -> int:
    """:data:`_DRAWS`, shrunk past ``_BUDGET_ELEMENTS`` draws x deals (rounded up to a power
    of two), at least :data:`_MIN_DRAWS`."""
    rounded = 1 << max(deals - 1, 0).bit_length()
    return min(_DRAWS, max(_MIN_DRAWS, _BUDGET_ELEMENTS // rounded))


Counters = tuple[float, float, float, float, float, float, float, float]
"""A deal's impressions, purchases, prior, click posterior and log value sums, as drawn from."""


class PurchaseFigureCache:
    """Deals' figures by everything they depend on, kept between requests (per process).

    A thousand deals' draws cost 80-100 ms, a refresh of a live campaign changes a few dozen of
    them: only those are drawn again. Emptied once it holds ``max_entries`` (~600 bytes each; a
    stale entry is never wrong, only unused: its counters are gone).
    """

    def __init__(self, max_entries: int = 50_000) -> None:
        self.max_entries = max_entries
        self._figures: dict[tuple[Counters, ValuePrior, int], PurchaseFigures] = {}

    def figures(
        self, rows: Sequence[Counters], prior: ValuePrior, draws: int
    ) -> list[PurchaseFigures]:
        known = {}
        for row in rows:
            kept = self._figures.get((row, prior, draws))
            if kept is not None:
                known[row] = kept
        missing = sorted(set(rows) - known.keys())
        if missing:
            if len(self._figures) + len(missing) > self.max_entries:
                self._figures = {}
            for row, figures in zip(missing, _draw_figures(missing, prior, draws), strict=True):
                known[row] = self._figures[(row, prior, draws)] = figures
        return [known[row] for row in rows]


def _counters(deal: PurchaseCounters) -> Counters:
    """The deal's counters, those db-check would flag (sums without purchases, rounding below
    Cauchy-Schwarz) read as the nearest consistent ones: a page of figures must not fail."""
    bought = float(deal.purchases)
    total = float(deal.log_value_sum) if bought > 0 else 0.0
    squares = float(deal.log_value_square_sum) if bought > 0 else 0.0
    squares = max(squares, total * total / bought) if bought > 0 else 0.0
    return (
        float(deal.n),
        bought,
        float(deal.prior_alpha),
        float(deal.prior_beta),
        float(deal.alpha),
        float(deal.beta),
        total,
        squares,
    )


def _draw_figures(rows: Sequence[Counters], prior: ValuePrior, draws: int) -> list[PurchaseFigures]:
    """The figures of ``rows``: the conversion and the value posteriors in closed form for all
    at once, then each row's draws from its own generator, and the quantiles by one sort."""
    n, bought, prior_alpha, prior_beta, click_alpha, click_beta, total, squares = np.array(
        rows, dtype=np.float64
    ).T
    alpha = prior_alpha + bought
    beta = prior_beta + np.maximum(n - bought, 0.0)
    conversion = posterior_mean(alpha, beta).tolist()
    low, high = (bound.tolist() for bound in credible_interval(alpha, beta))
    m, kappa, a, b = value_posterior(prior, bought, total, squares)
    logs = np.empty((draws, 2 * len(rows)))  # per row: revenue per impression, then per click
    setting = np.array([prior.m0, prior.kappa0, prior.a0, prior.b0, draws], dtype=np.float64)
    for i, row in enumerate(rows):
        rng = _generator(np.array(row, dtype=np.float64).tobytes() + setting.tobytes())
        one = slice(i, i + 1)
        mu, sigma2 = draw_value_parameters((m[one], kappa[one], a[one], b[one]), rng, (draws,))
        with np.errstate(divide="ignore"):
            logs[:, 2 * i] = np.log(rng.beta(alpha[i], beta[i], size=draws)) + mu + 0.5 * sigma2
            clicked = np.log(rng.beta(click_alpha[i], click_beta[i], size=draws))
        logs[:, 2 * i + 1] = logs[:, 2 * i] - clicked
    with np.errstate(over="ignore"):
        quantiles = np.exp(column_quantiles(logs, _LEVELS)).T.tolist()
    return [
        PurchaseFigures(conversion[i], low[i], high[i], *quantiles[2 * i], *quantiles[2 * i + 1])
        for i in range(len(rows))
    ]


def _generator(seed: bytes) -> np.random.Generator:
    """A generator of its own for the deal whose counters and setting ``seed`` holds."""
    digest = hashlib.blake2b(seed, digest_size=16).digest()
    return np.random.Generator(np.random.PCG64(int.from_bytes(digest, "little")))
