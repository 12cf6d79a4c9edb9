"""The bandit maths of Supermarket Hot Deals: policies, posterior statistics, simulation, replay.

Pure NumPy/SciPy: no web framework, no database, no clock, no global random state. Every
function that draws random numbers takes a ``numpy.random.Generator``, so a seed reproduces any
ranking, statistic or simulation exactly. Errors are :class:`BanditError` (a ``ValueError``),
which the service maps to HTTP 4xx responses.
"""

from __future__ import annotations

from hotdeals.bandit.arms import ArmSet
from hotdeals.bandit.deal_weeks import DealWeeks, Drift
from hotdeals.bandit.decision_study import Criterion, RuleStudy, RuleTracker, study_winner_rule
from hotdeals.bandit.epsilon_greedy import EpsilonGreedy
from hotdeals.bandit.errors import (
    BanditError,
    InvalidArmsError,
    InvalidParameterError,
    NoReplayMatchError,
    UnknownPolicyError,
)
from hotdeals.bandit.forecast import Forecast, forecast_decision
from hotdeals.bandit.forgetting import decay, discounted_posteriors, discounted_sum
from hotdeals.bandit.policy import Policy, PolicyName
from hotdeals.bandit.positions import (
    Examination,
    corrected_posteriors,
    effective_impressions,
    fit_examination,
    fit_examination_batch,
)
from hotdeals.bandit.priors import (
    DEFAULT_MAX_STRENGTH,
    DEFAULT_MIN_DEALS,
    NewDealPrior,
    empirical_prior,
    empirical_prior_batch,
)
from hotdeals.bandit.registry import POLICY_NAMES, make_policy
from hotdeals.bandit.replay import ReplayResult, replay
from hotdeals.bandit.revenue import (
    Objective,
    RevenueThompson,
    ValuePrior,
    expected_revenue_per_impression,
    revenue_interval,
    revenue_scores,
)
from hotdeals.bandit.revenue_simulation import ShopResult, simulate_shop
from hotdeals.bandit.simulate import SimulationResult, simulate
from hotdeals.bandit.stats import (
    ArmStatistics,
    arm_statistics,
    arm_statistics_batch,
    credible_interval,
    posterior_mean,
    prob_best_two_exact,
)
from hotdeals.bandit.thompson import ThompsonSampling
from hotdeals.bandit.ucb1 import UCB1
from hotdeals.bandit.uniform import Uniform
from hotdeals.bandit.uplift import Uplift, uplift_vs_even
from hotdeals.bandit.weeks_simulation import WeeksResult, simulate_weeks
from hotdeals.bandit.winner import Verdict, WinnerRule

__all__ = [
    "DEFAULT_MAX_STRENGTH",
    "DEFAULT_MIN_DEALS",
    "POLICY_NAMES",
    "UCB1",
    "ArmSet",
    "ArmStatistics",
    "BanditError",
    "Criterion",
    "DealWeeks",
    "Drift",
    "EpsilonGreedy",
    "Examination",
    "Forecast",
    "InvalidArmsError",
    "InvalidParameterError",
    "NewDealPrior",
    "NoReplayMatchError",
    "Objective",
    "Policy",
    "PolicyName",
    "ReplayResult",
    "RevenueThompson",
    "RuleStudy",
    "RuleTracker",
    "ShopResult",
    "SimulationResult",
    "ThompsonSampling",
    "Uniform",
    "UnknownPolicyError",
    "Uplift",
    "ValuePrior",
    "Verdict",
    "WeeksResult",
    "WinnerRule",
    "arm_statistics",
    "arm_statistics_batch",
    "corrected_posteriors",
    "credible_interval",
    "decay",
    "discounted_posteriors",
    "discounted_sum",
    "effective_impressions",
    "empirical_prior",
    "empirical_prior_batch",
    "expected_revenue_per_impression",
    "fit_examination",
    "fit_examination_batch",
    "forecast_decision",
    "make_policy",
    "posterior_mean",
    "prob_best_two_exact",
    "replay",
    "revenue_interval",
    "revenue_scores",
    "simulate",
    "simulate_shop",
    "simulate_weeks",
    "study_winner_rule",
    "uplift_vs_even",
]
