"""Top-two Thompson sampling (Russo 2016) against plain Thompson: regret and the winner rule.

Why: top-two Thompson sampling ("Simple Bayesian algorithms for best arm identification") is
built to identify the best arm fast; it gives the posterior's runner-up a fixed share of the
traffic (1 - beta) where plain Thompson sampling starves it. The service wants both low regret
(the clicks the shop loses) and a winner rule that names the best deal soon and correctly, so
this bench measures what the faster identification costs in clicks on the cases of
``bench.rule_study`` (k = 1, 100 seeds): cumulative regret (median, p10, p90), and the winner
rule's share decided, median / p90 impressions to a decision and wrong winners, watched with the
same machinery (``RuleTracker`` on ``simulate``'s ``observe`` hook, ``rule_study.figures``).
"rollout regret" is what a campaign that ends at the decision and then shows only the named deal
would lose over the same horizon (undecided seeds keep their bandit regret).

The policies draw different numbers of random values, so the two policies' campaigns share seeds
but not clicks: the comparison is not paired. Prints one JSON line:

    nice -n 19 .venv/bin/python -m bench.top_two [--seeds 100] [--horizon N] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from bench.rule_study import CASES, figures
from hotdeals.bandit import (
    Criterion,
    RuleTracker,
    SimulationResult,
    ThompsonSampling,
    WinnerRule,
    simulate,
)
from hotdeals.bandit.arrays import CountArray, FloatArray, IndexArray
from hotdeals.bandit.decision_study import study_generator
from hotdeals.bandit.errors import InvalidParameterError
from hotdeals.bandit.policy import BatchPolicy, Policy
from hotdeals.bandit.ranking import check_k, check_matrices, empty_ranking

MAX_REDRAWS = 100
# Redraws are made in growing chunks (one NumPy call each, for all pending seeds at once), so a
# step costs at most len(_CHUNKS) calls however concentrated the posteriors are.
_CHUNKS = (2, 4, 8, 16, 32, MAX_REDRAWS - 62)
CRITERIA: dict[str, Criterion] = {
    "default": Criterion(WinnerRule()),
    "P(best) only": Criterion(WinnerRule(max_relative_loss=0)),
}


@dataclass(frozen=True, slots=True)
class TopTwoThompson(BatchPolicy):
    """Top-two Thompson sampling for one slot (k = 1).

    With probability ``beta`` show the arm whose posterior sample is highest (the leader);
    otherwise redraw the samples until another arm is highest and show that one (the
    challenger). After ``MAX_REDRAWS`` redraws without a challenger, the second-highest arm of
    the first draw is shown. It only picks one deal, so ``k > 1`` is refused.
    """

    beta: float = 0.5

    def rank_batch(
        self,
        alpha: FloatArray,
        beta: FloatArray,
        pulls: CountArray,
        successes: CountArray,
        k: int,
        rng: np.random.Generator,
    ) -> IndexArray:
        """One arm per row, (rows, 1); ``k > 1`` raises ``InvalidParameterError``."""
        if check_k(k) != 1:
            raise InvalidParameterError(
                f"top-two Thompson sampling shows one deal (k = 1), got {k}"
            )
        rows, arms = check_matrices(alpha, beta, pulls, successes)
        if arms == 0:
            return empty_ranking(rows)
        first = rng.beta(alpha, beta)
        shown: IndexArray = np.argmax(first, axis=1)
        if arms == 1:
            return shown[:, np.newaxis]
        leader = shown.copy()
        pending = np.flatnonzero(rng.random(rows) >= self.beta)  # rows that show a challenger
        for chunk in _CHUNKS:
            if pending.size == 0:
                break
            # (pending, chunk) winners of `chunk` fresh redraws; take the first that is not the
            # leader, which is what redrawing one at a time would have shown.
            draws = rng.beta(
                alpha[pending, None, :], beta[pending, None, :], (len(pending), chunk, arms)
            )
            winners = np.argmax(draws, axis=2)
            other = winners != leader[pending, None]
            found = other.any(axis=1)
            first_other = other[found].argmax(axis=1)
            shown[pending[found]] = winners[found][np.arange(first_other.size), first_other]
            pending = pending[~found]
        if pending.size:
            shown[pending] = np.argsort(first[pending], axis=1)[:, -2]
        return shown[:, np.newaxis]


def rollout_regret(
    rates: FloatArray, result: SimulationResult, decided_at: CountArray, winners: IndexArray
) -> FloatArray:
    """(seeds,): regret if each decided campaign had shown only its named deal after deciding.

    A decision is made at a checkpoint, so the bandit regret up to it is on the curve.
    """
    horizon = int(result.checkpoints[-1])
    decided = decided_at >= 0
    at = np.searchsorted(result.checkpoints, np.where(decided, decided_at, horizon))
    before = result.cumulative_regret[np.arange(len(at)), at]
    after = (horizon - decided_at) * (rates.max() - rates[np.where(decided, winners, 0)])
    return np.where(decided, before + after, result.final_regret)


def quantiles(values: FloatArray) -> dict[str, float]:
    p10, median, p90 = np.quantile(values, [0.1, 0.5, 0.9])
    return {
        "median": round(float(median), 1),
        "p10": round(float(p10), 1),
        "p90": round(float(p90), 1),
    }


def run(policy_name: str, case: str, seeds: int, horizon: int | None) -> dict[str, object]:
    """One policy on one case: regret quantiles and the rules' figures, as a JSON-ready dict."""
    rates, case_horizon = CASES[case]
    horizon = horizon or case_horizon
    policy: Policy = TopTwoThompson() if policy_name == "top-two" else ThompsonSampling()
    seed_list = list(range(seeds))
    tracker = RuleTracker(list(CRITERIA.values()), study_generator(seed_list))
    started = time.perf_counter()
    result = simulate(policy, rates, horizon, seed_list, observe=tracker)
    studies = tracker.results(rates, horizon)
    true_rates = np.asarray(rates)
    default = studies[0]
    rollout = rollout_regret(true_rates, result, default.decided_at, default.winners)
    return {
        "horizon": horizon,
        "seconds": round(time.perf_counter() - started, 1),
        "regret": quantiles(result.final_regret),
        "rollout_regret_default_rule": quantiles(rollout),
        "best_arm_share_median": round(float(np.median(result.best_arm_share)), 3),
        "rules": {label: figures(study) for label, study in zip(CRITERIA, studies, strict=True)},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--horizon", type=int, default=None, help="all cases (default: each's own)")
    parser.add_argument("--jobs", type=int, default=2, help="processes running simulations")
    args = parser.parse_args()
    started = time.perf_counter()
    policies = ("thompson", "top-two")
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {
            (case, name): pool.submit(run, name, case, args.seeds, args.horizon)
            for case in CASES
            for name in policies
        }
        done = {key: future.result() for key, future in futures.items()}
    report = {
        "k": 1,
        "seeds": args.seeds,
        "top_two_beta": TopTwoThompson().beta,
        "max_redraws": MAX_REDRAWS,
        "cases": {
            case: {"rates": CASES[case][0], **{name: done[case, name] for name in policies}}
            for case in CASES
        },
        "seconds": round(time.perf_counter() - started, 1),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
