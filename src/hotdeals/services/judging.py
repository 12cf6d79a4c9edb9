"""How the winner rule judges a campaign by its objective: the posteriors P(best) reads.

Clicks and purchases are Beta posteriors (of clicks, or of purchases, per impression), read as
always. Revenue per impression has a posterior whose mean is infinite
(:mod:`hotdeals.bandit.revenue`), so its expected loss is too: P(best) alone decides (the
rule's value-remaining condition is off) and the deals' expected losses are not reported; its
P(best) counts the deal with the highest revenue draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hotdeals.bandit import ArmStatistics, WinnerRule, arm_statistics, revenue_scores
from hotdeals.bandit.stats import draw_statistics
from hotdeals.db.models import Bandit, Project
from hotdeals.services.posteriors import of_purchases
from hotdeals.services.purchase_stats import value_prior
from hotdeals.vocabulary import Objective

__all__ = ["Judged", "judge"]

_MAX_REVENUE_ELEMENTS = 4_000_000  # draws x deals of one revenue Monte Carlo


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
    prob_best, _ = draw_statistics(theta[:, np.newaxis, :])
    low, median, high = np.quantile(theta, [0.025, 0.5, 0.975], axis=0)
    nan = np.full(len(chosen), np.nan)
    live = ArmStatistics(median, low, high, prob_best[0], nan)
    return Judged(rule, live, alpha[active], beta[active])
