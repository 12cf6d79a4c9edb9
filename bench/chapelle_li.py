"""Chapelle & Li (2011), "An Empirical Evaluation of Thompson Sampling", Table 1, reproduced.

Their world (section 3, "Impact of delay"): 10 items; at each step, with probability 1e-3, one
item retires and a new one replaces it; every item's true CTR is drawn from Beta(4, 4); the
feedback arrives only every delta steps (delta = 1, 3, 10, 32, 100, 316, 1000); T = 1e6; the
table gives the average regret over 100 repetitions of Thompson sampling (Beta(1, 1) prior) and
of UCB, and their ratio. Regret here is against the best item alive at each step
(``hotdeals.bandit.simulate_weeks``), the expected clicks lost; the starting 10 CTRs are drawn
from Beta(4, 4) in each run.

Their UCB is the Chernoff-based bound of Langford's tutorial (2005, p. 278), which the text we
could read did not render; we use the form we know from the paper, the index
``k/m + sqrt(2 (k/m) L / m) + 2 L / m`` with ``L = log(1/delta_t) = log(t) / 2`` (``k`` clicks in
``m`` impressions, ``t`` the step), and also report our own UCB1 (Auer et al. 2002). Beside the
paper's policies, our options on the same world: Thompson sampling with the empirical-Bayes prior
for new items, and with a half-life.

Prints one JSON line (also in ``bench/results/``); at paper scale (100 seeds, all delays, five
policies) about 45 minutes on two cores, so it is a benchmark, not a test:

    nice .venv/bin/python -m bench.chapelle_li [--seeds 100] [--horizon 1000000]
        [--delays 1,3,10,32,100,316,1000] [--policies ts,ucb,ucb1,ts-empirical,ts-half-life]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from hotdeals.bandit import (
    UCB1,
    DealWeeks,
    NewDealPrior,
    Policy,
    ThompsonSampling,
    simulate_weeks,
)
from hotdeals.bandit.arrays import CountArray, FloatArray, IndexArray
from hotdeals.bandit.ranking import top_k_random_ties

RESULTS = Path(__file__).with_name("results")
DELAYS = (1, 3, 10, 32, 100, 316, 1000)
PAPER = {
    "ucb": (24_145, 24_695, 25_662, 28_148, 37_141, 77_687, 226_220),
    "ts": (9_105, 9_199, 9_049, 9_451, 11_550, 21_594, 59_256),
    "ratio": (2.65, 2.68, 2.84, 2.98, 3.22, 3.60, 3.82),
}
HALF_LIFE = 50_000.0


class ChernoffUCB:
    """The paper's UCB: a Chernoff-type upper bound whose confidence grows as log(t) / 2.

    It counts its own calls as the time ``t`` (one call per step), which is why it is mutable
    and lives here rather than in the package: a server's policy must not keep state.
    """

    def __init__(self) -> None:
        self.t = 0

    def rank(self, arms: Any, k: int, rng: np.random.Generator) -> IndexArray:
        raise NotImplementedError("batch only")

    def rank_batch(
        self,
        alpha: FloatArray,
        beta: FloatArray,
        pulls: CountArray,
        successes: CountArray,
        k: int,
        rng: np.random.Generator,
    ) -> IndexArray:
        self.t += 1
        m = np.maximum(pulls, 1).astype(np.float64)
        mean = successes / m
        bound = 0.5 * np.log(max(self.t, 2))
        index = mean + np.sqrt(2.0 * mean * bound / m) + 2.0 * bound / m
        return top_k_random_ties(np.where(pulls > 0, index, np.inf), k, rng)


def policy_for(name: str) -> tuple[Policy, dict[str, Any]]:
    """The policy and the options of its world, for each column of the table."""
    if name == "ucb":
        return ChernoffUCB(), {}
    if name == "ucb1":
        return UCB1(), {}
    if name == "ts-empirical":
        return ThompsonSampling(), {"prior": NewDealPrior.EMPIRICAL}
    if name == "ts-half-life":
        return ThompsonSampling(), {"half_life": HALF_LIFE}
    return ThompsonSampling(), {}


def run(name: str, delay: int, seeds: list[int], horizon: int) -> dict[str, Any]:
    policy, extra = policy_for(name)
    world = DealWeeks(retire_prob=1e-3, new_arm_prior=(4.0, 4.0), **extra)
    rates = np.random.default_rng(seeds).beta(4.0, 4.0, (len(seeds), 10))
    started = time.perf_counter()
    result = simulate_weeks(policy, rates, horizon, seeds, world, delay=delay)
    final = result.final_regret
    return {
        "mean": round(float(final.mean()), 1),
        "se": round(float(final.std(ddof=1) / np.sqrt(len(final))), 1),
        "median": round(float(np.median(final)), 1),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--horizon", type=int, default=1_000_000)
    parser.add_argument("--delays", default=",".join(map(str, DELAYS)))
    parser.add_argument("--policies", default="ts,ucb,ucb1,ts-empirical,ts-half-life")
    parser.add_argument("--jobs", type=int, default=2, help="processes running simulations")
    args = parser.parse_args()
    delays = [int(d) for d in args.delays.split(",")]
    names = [n.strip() for n in args.policies.split(",") if n.strip()]
    unknown = set(names) - {"ts", "ucb", "ucb1", "ts-empirical", "ts-half-life"}
    if unknown:
        print(f"unknown policies {sorted(unknown)}", file=sys.stderr)
        return 2
    seeds = list(range(args.seeds))
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {
            (name, delay): pool.submit(run, name, delay, seeds, args.horizon)
            for delay in delays
            for name in names
        }
        ours = {key: future.result() for key, future in futures.items()}
    table: dict[str, dict[str, Any]] = {name: {} for name in names}
    for (name, delay), figures in ours.items():
        table[name][str(delay)] = figures
    if "ts" in names and "ucb" in names:
        table["ratio ucb/ts"] = {
            str(d): round(ours["ucb", d]["mean"] / ours["ts", d]["mean"], 2) for d in delays
        }
    report = {
        "world": "10 items, retire 1e-3 per step, CTRs ~ Beta(4, 4)",
        "horizon": args.horizon,
        "seeds": len(seeds),
        "paper": {key: dict(zip(map(str, DELAYS), row, strict=True)) for key, row in PAPER.items()},
        "ours": table,
        "half_life": HALF_LIFE,
        "seconds": round(time.perf_counter() - started, 1),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    line = json.dumps(report)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"chapelle_li-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(line + "\n")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
