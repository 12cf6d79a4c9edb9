"""The judge of a campaign with many deals: the click Monte Carlo screens out hopeless deals,
draws again with more draws when the leader is near the rule's threshold, the revenue one stays
within its budget of draws, and both still sum P(best) to 1."""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate, optimize, stats

from hotdeals.db.models import Bandit, Project
from hotdeals.services import judging
from hotdeals.services.judging import judge
from hotdeals.vocabulary import Objective


def _deals(count: int, best: int) -> list[Bandit]:
    """``count`` deals after 5,000 impressions, the first ``best`` at 8% and the rest at 2%,
    a fifth of the clicks bought at 2.0 to 4.0."""
    deals = []
    for i in range(count):
        clicks = 400 if i < best else 100
        logs = [math.log(2.0 + (j % 3)) for j in range(clicks // 5)]
        deals.append(
            Bandit(
                bandit_id=i + 1,
                n=5_000,
                number_of_success=clicks,
                alpha=1.0 + clicks,
                beta=1.0 + 5_000 - clicks,
                prior_alpha=1.0,
                prior_beta=1.0,
                active=True,
                purchases=len(logs),
                log_value_sum=sum(logs),
                log_value_square_sum=sum(x * x for x in logs),
            )
        )
    return deals


def _project(objective: Objective) -> Project:
    return Project(
        project_id=1,
        objective=objective,
        min_prob_best=0.95,
        max_relative_loss=0.0025,
        min_impressions=100,
    )


def test_clicks_draw_only_the_deals_that_can_win() -> None:
    deals = _deals(1_000, best=2)
    active = np.ones(len(deals), dtype=bool)
    judged = judge(_project(Objective.CLICK), deals, active, np.random.default_rng(1), 20_000)
    assert judged.live.plausible == 2
    assert judged.live.draws == 20_000
    assert judged.live.prob_best[:2].sum() == 1.0
    assert (judged.live.expected_loss[2:] > 0.05).all()  # 8% - 2%, about


def test_revenue_draws_stay_within_their_budget() -> None:
    deals = _deals(1_000, best=2)
    active = np.ones(len(deals), dtype=bool)
    judged = judge(_project(Objective.REVENUE), deals, active, np.random.default_rng(1), 20_000)
    assert judged.live.draws == judging._MAX_REVENUE_ELEMENTS // 1_000
    assert judged.live.prob_best.sum() == 1.0
    assert judged.live.prob_best[:2].sum() > 0.99  # four times the purchases, same values
    assert np.isnan(judged.live.expected_loss).all()
    few = judge(
        _project(Objective.REVENUE), deals[:6], active[:6], np.random.default_rng(1), 20_000
    )
    assert few.live.draws == 20_000


def _leader_among_weak_deals(weak_beta: float, count: int = 1_000) -> list[Bandit]:
    """A deal at 12% after 1,000 impressions among ``count - 1`` Beta(1, ``weak_beta``) ones."""
    leader = Bandit(bandit_id=1, alpha=121.0, beta=881.0, active=True)
    weak = [
        Bandit(bandit_id=i + 2, alpha=1.0, beta=weak_beta, active=True) for i in range(count - 1)
    ]
    return [leader, *weak]


def _exact_leader_prob_best(weak_beta: float, count: int = 1_000) -> float:
    """``P(theta_leader > every weak theta)`` by quadrature: the weak deals' CDF is closed-form."""

    def integrand(x: float) -> float:
        weak_cdf = 1.0 - (1.0 - x) ** weak_beta
        return float(stats.beta.pdf(x, 121.0, 881.0) * weak_cdf ** (count - 1))

    value, _ = integrate.quad(integrand, 0.05, 0.25, points=[0.12], limit=200)
    return float(value)


def test_a_leader_near_the_rules_threshold_is_drawn_again_with_more_draws() -> None:
    weak_beta = optimize.brentq(lambda b: _exact_leader_prob_best(b) - 0.95, 40.0, 200.0)
    deals = _leader_among_weak_deals(weak_beta)
    active = np.ones(len(deals), dtype=bool)
    judged = judge(_project(Objective.CLICK), deals, active, np.random.default_rng(3), 20_000)
    assert judged.live.plausible == 1_000
    assert judged.live.draws == 2_000  # REFINED_BUDGET / 1,000 plausible, not 400
    assert abs(judged.live.prob_best[0] - 0.95) < 4 * math.sqrt(0.95 * 0.05 / 2_000)


def test_far_from_the_threshold_the_budget_stands() -> None:
    deals = _leader_among_weak_deals(40.0)  # the leader's exact P(best) is far below 0.95
    assert _exact_leader_prob_best(40.0) < 0.5
    active = np.ones(len(deals), dtype=bool)
    judged = judge(_project(Objective.CLICK), deals, active, np.random.default_rng(3), 20_000)
    assert judged.live.plausible == 1_000
    assert judged.live.draws == 400
