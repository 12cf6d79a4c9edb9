"""The winner rule on simulated Thompson-sampling campaigns: how soon it fires, how often wrongly.

Four cases of known click rates, 100 seeds each, k = 1: 3 deals at 2/4/8% over 20,000
impressions, 10 deals at 1..10% over 100,000, a near tie (5.0/5.1/3.0% over 50,000) and a close
case (4.0/4.4/4.8% over 50,000). Every rule below watches the same runs and the same posterior
draws (``hotdeals.bandit.RuleTracker``), so the comparison is paired: the default rule, the old
one (P(best) >= 0.95 with 100 impressions on every deal), P(best) alone with the floor on the
leader, other bounds on the value remaining, a stricter P(best) and a higher floor. Decision
times have the resolution of the simulation's 200 checkpoints. Prints one JSON line, also
written to ``bench/results/``; about a minute on two cores (10 with ``--draws 20000``).

    .venv/bin/python -m bench.rule_study [--seeds 100] [--cases 3-deals,close] [--draws 2000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from hotdeals.bandit import Criterion, RuleStudy, RuleTracker, ThompsonSampling, WinnerRule
from hotdeals.bandit import simulate as run_simulation
from hotdeals.bandit.decision_study import study_generator

RESULTS = Path(__file__).with_name("results")

CASES: dict[str, tuple[list[float], int]] = {
    "3-deals": ([0.02, 0.04, 0.08], 20_000),
    "10-deals": ([i / 100 for i in range(1, 11)], 100_000),
    "near-tie": ([0.050, 0.051, 0.030], 50_000),
    "close": ([0.040, 0.044, 0.048], 50_000),
}

CRITERIA: dict[str, Criterion] = {
    "default": Criterion(WinnerRule()),
    "old: every deal >= 100, P(best) only": Criterion(
        WinnerRule(max_relative_loss=0), floor_on_every_deal=True
    ),
    "P(best) only": Criterion(WinnerRule(max_relative_loss=0)),
    "loss < 0.1%": Criterion(WinnerRule(max_relative_loss=0.001)),
    "loss < 0.5%": Criterion(WinnerRule(max_relative_loss=0.005)),
    "loss < 1%": Criterion(WinnerRule(max_relative_loss=0.01)),
    "P(best) 0.99 or loss < 0.25%": Criterion(WinnerRule(min_prob_best=0.99)),
    "default, leader >= 1,000": Criterion(WinnerRule(min_impressions=1000)),
}


def figures(study: RuleStudy) -> dict[str, object]:
    named = study.winners[study.winners >= 0]
    return {
        "decided_share": study.decided_share,
        "median_impressions": study.median_steps,
        "p90_impressions": study.p90_steps,
        "named": len(named),
        "wrong": int((study.true_rates[named] < study.true_rates.max()).sum()),
        "mean_relative_shortfall": study.mean_relative_shortfall,
        "loss_only_share": study.loss_only_share,
    }


def study_case(rates: list[float], horizon: int, seeds: int, draws: int) -> dict[str, object]:
    seed_list = list(range(seeds))
    tracker = RuleTracker(list(CRITERIA.values()), study_generator(seed_list), draws=draws)
    started = time.perf_counter()
    run_simulation(ThompsonSampling(), rates, horizon, seed_list, observe=tracker)
    studies = tracker.results(rates, horizon)
    return {
        "rates": rates,
        "horizon": horizon,
        "seeds": seeds,
        "seconds": round(time.perf_counter() - started, 1),
        "rules": {label: figures(study) for label, study in zip(CRITERIA, studies, strict=True)},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated case names")
    parser.add_argument("--draws", type=int, default=2000)
    args = parser.parse_args()
    names = [name.strip() for name in args.cases.split(",") if name.strip()]
    unknown = [name for name in names if name not in CASES]
    if unknown or not names:
        print(f"unknown case {unknown}; the cases are {', '.join(CASES)}", file=sys.stderr)
        return 2
    report: dict[str, object] = {
        "policy": "thompson",
        "k": 1,
        "draws": args.draws,
        "cases": {
            name: study_case(*CASES[name], seeds=args.seeds, draws=args.draws) for name in names
        },
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    line = json.dumps(report)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"rule_study-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(line + "\n")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
