"""How the winner rule judges a campaign by its objective: the posteriors P(best) reads.

Clicks and purchases are Beta posteriors (of clicks, or of purchases, per impression), read as
always. Revenue per impression has a posterior whose mean is infinite
(:mod:`hotdeals.bandit.revenue`), so its expected loss is too: P(best) alone decides (the
rule's value-remaining condition is off) and the deals' expected losses are not reported; its
P(best) counts the deal with the highest revenue draw.

Revenue draws cost ~200 ns per deal and draw here, so they are capped at
``_MAX_REVENUE_ELEMENTS`` (the requested draws up to 25 deals, 5,000 at 100, 500 at 1,000,
~0.1 s): P(best)'s Monte Carlo error, ``sqrt(p (1 - p) / draws)``, is then at most 0.007 at 100
deals and 0.022 at 1,000 (0.01 around the rule's 0.95). The Beta objectives screen out the deals
that cannot win (:func:`hotdeals.bandit.arm_statistics`); revenue has no closed-form tail to
screen with, so every deal is drawn. When many plausible deals leave the Beta Monte Carlo few
draws and the leader's P(best) is within four of their errors of the rule's threshold, it is
drawn again with five times the budget (the error near 0.95 at 1,000 plausible deals: 0.011,
then 0.005).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hotdeals.bandit import ArmStatistics, WinnerRule, arm_statistics, revenue_scores
from hotdeals.bandit.arrays import column_quantiles
from hotdeals.bandit.stats import REFINED_BUDGET, draw_statistics
from hotdeals.db.models import Bandit, Project
from hotdeals.services.posteriors import of_purchases
from hotdeals.services.purchase_stats import value_prior
from hotdeals.vocabulary import Objective

__all__ = ["Judged", "judge"]

_MAX_REVENUE_ELEMENTS = 500_000  # draws x deals of one revenue Monte Carlo


@dataclass(frozen=True, slots=True)
class Judged:
    """The rule, and the active deals' statistics and Beta posteriors it was applied to."""

    rule: WinnerRule
    live: ArmStatistics
    live_alpha: NDArray[np.float64]
    live_beta: NDArray[np.float64]


def judge(
    project: Project,
    arms: Sequence[Bandit],
    active: NDArray[np.bool_],
    rng: np.random.Generator,
    draws: int,
) -> Judged:
    """The campaign's rule and its active deals' statistics, by the campaign's objective."""
    if project.objective == Objective.CLICK:
        alpha = np.array([a.alpha for a in arms], dtype=np.float64)
        beta = np.array([a.beta for a in arms], dtype=np.float64)
    else:
        bought = of_purchases(arms)
        alpha, beta = bought.alpha, bought.beta
    if project.objective != Objective.REVENUE:
        rule = WinnerRule(project.min_prob_best, project.max_relative_loss, project.min_impressions)
        live = arm_statistics(alpha[active], beta[active], rng, draws=draws)
        if _near_the_line(live, rule.min_prob_best, draws):
            live = arm_statistics(
                alpha[active], beta[active], rng, draws=draws, budget=REFINED_BUDGET
            )
        return Judged(rule, live, alpha[active], beta[active])
    rule = WinnerRule(project.min_prob_best, 0.0, project.min_impressions)
    chosen = [a for a, on in zip(arms, active, strict=True) if on]
    rows = max(1, min(draws, _MAX_REVENUE_ELEMENTS // max(1, len(chosen))))
    shape = (rows, len(chosen))

    def column(values: ArrayLike) -> NDArray[np.float64]:
        return np.broadcast_to(np.asarray(values, dtype=np.float64), shape)

    theta = revenue_scores(
        column(alpha[active]),
        column(beta[active]),
        value_prior(arms),
        column([a.purchases for a in chosen]),
        column([a.log_value_sum for a in chosen]),
        column([a.log_value_square_sum for a in chosen]),
        rng,
    )
    with np.errstate(invalid="ignore"):  # inf - inf in the losses, which are not reported
        prob_best, _ = draw_statistics(theta[:, np.newaxis, :])
    low, median, high = column_quantiles(theta, (0.025, 0.5, 0.975))
    nan = np.full(len(chosen), np.nan)
    live = ArmStatistics(median, low, high, prob_best[0], nan, draws=rows, plausible=len(chosen))
    return Judged(rule, live, alpha[active], beta[active])


def _near_the_line(live: ArmStatistics, threshold: float, wanted: int) -> bool:
    """Whether the leader's P(best), from fewer draws than ``wanted`` (many deals), lies within
    four Monte Carlo errors of the rule's threshold: then whether the campaign has a winner
    hangs on the draws, which are redone with :data:`REFINED_BUDGET` (5x)."""
    if live.draws >= wanted or len(live.prob_best) == 0:
        return False
    error = math.sqrt(threshold * (1.0 - threshold) / live.draws)
    return abs(float(live.prob_best.max()) - threshold) < 4.0 * error
