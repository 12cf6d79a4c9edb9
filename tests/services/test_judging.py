"""The judge of a campaign with many deals: the click Monte Carlo screens out hopeless deals,
the revenue one stays within its budget of draws, and both still sum P(best) to 1."""

from __future__ import annotations

import math

import numpy as np

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
