"""The public surface of ``hotdeals.bandit`` and its independence from the web and database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import hotdeals.bandit as bandit
from hotdeals.bandit import errors

EXPECTED_API = {
    "Examination",
    "Uplift",
    "corrected_posteriors",
    "effective_impressions",
    "fit_examination",
    "fit_examination_batch",
    "uplift_vs_even",
    "POLICY_NAMES",
    "UCB1",
    "ArmSet",
    "ArmStatistics",
    "Criterion",
    "Forecast",
    "BanditError",
    "EpsilonGreedy",
    "InvalidArmsError",
    "InvalidParameterError",
    "NoReplayMatchError",
    "Policy",
    "PolicyName",
    "ReplayResult",
    "RuleStudy",
    "RuleTracker",
    "SimulationResult",
    "ThompsonSampling",
    "Uniform",
    "UnknownPolicyError",
    "Verdict",
    "WinnerRule",
    "arm_statistics",
    "arm_statistics_batch",
    "credible_interval",
    "forecast_decision",
    "make_policy",
    "posterior_mean",
    "prob_best_two_exact",
    "replay",
    "simulate",
    "study_winner_rule",
    # Deals that come and go (docs/simulation.md).
    "DEFAULT_MAX_STRENGTH",
    "DEFAULT_MIN_DEALS",
    "DealWeeks",
    "Drift",
    "NewDealPrior",
    "WeeksResult",
    "decay",
    "discounted_posteriors",
    "discounted_sum",
    "empirical_prior",
    "empirical_prior_batch",
    "simulate_weeks",
    # Objectives: purchases and revenue (docs/simulation.md).
    "Objective",
    "RevenueThompson",
    "ShopResult",
    "ValuePrior",
    "expected_revenue_per_impression",
    "revenue_interval",
    "revenue_scores",
    "simulate_shop",
}


def test_all_lists_exactly_the_public_api() -> None:
    assert set(bandit.__all__) == EXPECTED_API
    assert len(bandit.__all__) == len(EXPECTED_API), "duplicate names in __all__"
    for name in bandit.__all__:
        assert hasattr(bandit, name), name


def test_every_public_name_is_exported() -> None:
    public = {
        name
        for name, value in vars(bandit).items()
        if not name.startswith("_") and not isinstance(value, ModuleType) and name != "annotations"
    }
    assert public == EXPECTED_API


@pytest.mark.parametrize("name", errors.__all__)
def test_every_error_belongs_to_one_value_error_family(name: str) -> None:
    error_class = getattr(errors, name)
    assert issubclass(error_class, bandit.BanditError)
    assert issubclass(error_class, ValueError)
    assert error_class.__doc__


def test_importing_bandit_pulls_in_neither_web_nor_database() -> None:
    source_root = Path(bandit.__file__).resolve().parents[2]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(source_root), env.get("PYTHONPATH", "")) if part
    )
    code = (
        "import sys, hotdeals.bandit\n"
        "heavy = ('sqlalchemy', 'fastapi', 'starlette')\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
        "print('numpy' in sys.modules)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    loaded, numpy_loaded = completed.stdout.splitlines()
    assert loaded == ""
    assert numpy_loaded == "True", "the probe did not actually import the package"
