"""Regret of every policy and deal-week option on four cases, and the studies behind the defaults.

In memory, no server (``hotdeals.bandit.simulate_weeks``). The default run (``make bench-regret``)
prints one JSON line with the regret (median, 10th and 90th percentile over the seeds) of each
policy/option on four cases, regret counted against the best deals alive:

* ``standard``: 10 deals at 1..10%, k = 1, 100,000 impressions;
* ``churn``: 10 deals with CTRs ~ Beta(4, 4), one retires with probability 1e-3 per step and a new
  one ~ Beta(4, 4) replaces it (Chapelle & Li's world, 100,000 steps; bench.chapelle_li runs it at
  paper scale);
* ``drift``: 6 deals at 2..7%; after 50,000 of 100,000 impressions the 7% deal drops to 1% and
  the 3% one rises to 8%;
* ``position``: the 6 deals of ``drift`` without the drift, k = 3, slots examined 1 / 0.75 / 0.6.

Options: plain Thompson sampling, with a half-life (``--half-life``, default 50,000 steps), with
the empirical prior for new deals, UCB1, epsilon-greedy and the uniform split. Two studies have
their own line (docs/simulation.md, "Deals that come and go"):

* ``--study drift``: impressions until the new best deal gets half the traffic, regret after the
  change, and the stationary cost of each half-life (200,000 impressions);
* ``--study week``: the stationary cost of forgetting over a week (2.1M impressions);
* ``--study new-deals``: 6, 20 and 80 deals with CTRs ~ Beta(1.7, 83) (5-95%: 0.3%..5%), a new
  deal every 2,000 impressions, k = 3: regret with the campaign's Beta(1, 1) and with the
  empirical prior under several caps on its strength, in all and after the first third (when
  the deals of the start are learnt and the regret is mostly the new deals').

Results also go to ``bench/results/``. Run from the repository root, e.g.

    nice .venv/bin/python -m bench.regret [--seeds 20] [--study drift|new-deals] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from hotdeals.bandit import (
    UCB1,
    DealWeeks,
    Drift,
    EpsilonGreedy,
    NewDealPrior,
    Policy,
    ThompsonSampling,
    Uniform,
    WeeksResult,
    simulate_weeks,
)

RESULTS = Path(__file__).with_name("results")
SIX = (0.02, 0.03, 0.04, 0.05, 0.06, 0.07)
TEN = tuple(round(0.01 * i, 2) for i in range(1, 11))
NEW_DEALS = (1.7, 83.0)  # Beta with 5% / 95% quantiles 0.3% / 5%: mean 2.0%, sd 1.5%
HALF_LIVES = (2_500, 5_000, 6_931, 10_000, 20_000, 50_000, 100_000, 300_000)  # 6,931: 0.9999^n
CAPS = (10.0, 30.0, 100.0, 300.0, 1e7)
POLICIES: dict[str, Callable[[], Policy]] = {
    "thompson": ThompsonSampling,
    "ucb1": UCB1,
    "epsilon_greedy": EpsilonGreedy,
    "uniform": Uniform,
}


def spread(values: np.ndarray) -> dict[str, float]:
    """Median and 10th / 90th percentiles, rounded for the JSON line."""
    low, median, high = np.percentile(values, [10, 50, 90])
    return {
        "median": round(float(median), 1),
        "p10": round(float(low), 1),
        "p90": round(float(high), 1),
    }


def run(job: dict[str, Any]) -> WeeksResult:
    """One simulation described by plain values, so that it can run in another process."""
    rates = job["rates"]
    if isinstance(rates, tuple) and rates and rates[0] == "beta":  # ("beta", a, b, arms)
        shape = (len(job["seeds"]), rates[3])
        rates = np.random.default_rng(job["seeds"]).beta(rates[1], rates[2], shape)
    return simulate_weeks(
        POLICIES[job["policy"]](),
        rates,
        job["horizon"],
        job["seeds"],
        DealWeeks(**job.get("world", {})),
        k=job.get("k", 1),
        examination=job.get("examination"),
        checkpoints=job.get("checkpoints", 200),
    )


def run_all(jobs: dict[str, dict[str, Any]], workers: int) -> dict[str, WeeksResult]:
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {name: pool.submit(run, job) for name, job in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


def options(half_life: float) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        "thompson": ("thompson", {}),
        f"thompson, half-life {half_life:,.0f}": ("thompson", {"half_life": half_life}),
        "thompson, empirical prior": ("thompson", {"prior": NewDealPrior.EMPIRICAL}),
        "ucb1": ("ucb1", {}),
        "epsilon_greedy": ("epsilon_greedy", {}),
        "uniform": ("uniform", {}),
    }


def cases(seeds: list[int], scale: float) -> dict[str, dict[str, Any]]:
    horizon, change = int(100_000 * scale), int(50_000 * scale)
    drifts = (Drift(change, 5, 0.01), Drift(change, 1, 0.08))
    return {
        "standard": {"rates": TEN, "horizon": horizon, "seeds": seeds},
        "churn": {
            "rates": ("beta", 4.0, 4.0, 10),
            "horizon": horizon,
            "seeds": seeds,
            "world": {"retire_prob": 1e-3, "new_arm_prior": (4.0, 4.0)},
        },
        "drift": {"rates": SIX, "horizon": horizon, "seeds": seeds, "world": {"drifts": drifts}},
        "position": {
            "rates": SIX,
            "horizon": horizon,
            "seeds": seeds,
            "k": 3,
            "examination": (1.0, 0.75, 0.6),
        },
    }


def bench(seeds: list[int], half_life: float, workers: int, scale: float) -> dict[str, Any]:
    jobs = {}
    for case, base in cases(seeds, scale).items():
        for label, (policy, extra) in options(half_life).items():
            if "prior" in extra and case != "churn":
                continue  # no deal is added: the same run as plain Thompson sampling
            world = {**base.get("world", {}), **extra}
            jobs[f"{case}|{label}"] = {**base, "policy": policy, "world": world}
    results = run_all(jobs, workers)
    report: dict[str, Any] = {}
    for key, result in results.items():
        case, label = key.split("|")
        report.setdefault(case, {})[label] = spread(result.final_regret)
    return report


def drift_study(seeds: list[int], workers: int, scale: float) -> dict[str, Any]:
    """Six deals at 2..7%; at 200,000 the 7% deal drops to 1% and the 3% one rises to 8%."""
    change, horizon, window = int(200_000 * scale), int(400_000 * scale), int(1_000 * scale)
    drifts = (Drift(change, 5, 0.01), Drift(change, 1, 0.08))
    jobs: dict[str, dict[str, Any]] = {}
    for half_life in (None, *HALF_LIVES):
        world = {"drifts": drifts, "half_life": half_life}
        base = {"rates": SIX, "seeds": seeds, "policy": "thompson"}
        jobs[f"drift|{half_life}"] = {
            **base,
            "horizon": horizon,
            "world": world,
            "checkpoints": horizon // window,
        }
        stationary = {"half_life": half_life}
        jobs[f"stationary|{half_life}"] = {**base, "horizon": change, "world": stationary}
    jobs["drift|uniform"] = {
        "rates": SIX,
        "seeds": seeds,
        "policy": "uniform",
        "horizon": horizon,
        "world": {"drifts": drifts},
    }
    results = run_all(jobs, workers)
    report: dict[str, Any] = {
        "change_at": change,
        "horizon": horizon,
        "window": window,
        "seeds": len(seeds),
    }
    for half_life in (None, *HALF_LIVES):
        moved = results[f"drift|{half_life}"]
        stationary = results[f"stationary|{half_life}"]
        report[str(half_life or "off")] = {
            "impressions_to_half_traffic": switch_time(moved, change, arm=1),
            "regret_after_change": spread(regret_since(moved, change)),
            "regret_total": spread(moved.final_regret),
            "stationary_regret_200k": spread(stationary.final_regret),
        }
    report["uniform"] = {"regret_total": spread(results["drift|uniform"].final_regret)}
    return report


def week_study(seeds: list[int], workers: int, scale: float) -> dict[str, Any]:
    """The stationary cost over a week: 6 deals at 2..7%, 2.1M impressions (300,000 a day)."""
    horizon = int(2_100_000 * scale)
    jobs = {
        str(half_life or "off"): {
            "rates": SIX,
            "seeds": seeds,
            "policy": "thompson",
            "horizon": horizon,
            "world": {"half_life": half_life},
        }
        for half_life in (None, 20_000, 50_000, 100_000, 300_000)
    }
    results = run_all(jobs, workers)
    report: dict[str, Any] = {"horizon": horizon, "seeds": len(seeds)}
    for label, result in results.items():
        day = int(np.searchsorted(result.checkpoints, horizon // 7))
        report[label] = {
            "first_day": spread(result.cumulative_regret[:, day]),
            "week": spread(result.final_regret),
        }
    return report


def switch_time(result: WeeksResult, change: int, arm: int) -> dict[str, Any]:
    """Per seed, the impressions after ``change`` until a window where ``arm`` got >= half."""
    assert result.shown_curve is not None
    steps = result.checkpoints
    after = np.flatnonzero(steps > change)
    shown = result.shown_curve[:, :, arm]
    share = (shown[:, after] - shown[:, after - 1]) / (steps[after] - steps[after - 1])
    reached = share >= 0.5
    first = np.where(reached.any(axis=1), steps[after][reached.argmax(axis=1)] - change, np.inf)
    low, median, high = np.quantile(first, [0.1, 0.5, 0.9], method="inverted_cdf")
    return {
        "median": _finite(median),
        "p10": _finite(low),
        "p90": _finite(high),
        "never": int(np.isinf(first).sum()),
    }


def _finite(value: float) -> float | None:
    """None for "beyond the horizon" (JSON has no infinity)."""
    return float(value) if np.isfinite(value) else None


def regret_since(result: WeeksResult, step: int) -> np.ndarray:
    index = int(np.searchsorted(result.checkpoints, step))
    return result.final_regret - result.cumulative_regret[:, index]


def new_deal_study(
    seeds: list[int], workers: int, scale: float, counts: tuple[int, ...] = (6, 20, 80)
) -> dict[str, Any]:
    """6, 20 and 80 deals at 0.3-5%, a new one every 2,000 impressions: campaign vs fitted prior."""
    horizon = int(300_000 * scale)
    jobs: dict[str, dict[str, Any]] = {}
    for deals in counts:
        base = {
            "rates": ("beta", *NEW_DEALS, deals),
            "horizon": horizon,
            "seeds": seeds,
            "k": 3,
        }
        world = {"retire_prob": 1 / 2_000, "new_arm_prior": NEW_DEALS}
        jobs[f"{deals}|uniform"] = {**base, "policy": "uniform", "world": world}
        jobs[f"{deals}|campaign"] = {**base, "policy": "thompson", "world": world}
        for cap in CAPS:
            prior = {"prior": NewDealPrior.EMPIRICAL, "max_strength": cap}
            jobs[f"{deals}|cap {cap:g}"] = {
                **base,
                "policy": "thompson",
                "world": {**world, **prior},
            }
    results = run_all(jobs, workers)
    report: dict[str, Any] = {"horizon": horizon, "seeds": len(seeds), "new_every": 2_000, "k": 3}
    for key, result in results.items():
        deals, label = key.split("|")
        uniform = results[f"{deals}|uniform"].final_regret
        campaign = results[f"{deals}|campaign"]
        later = regret_since(result, horizon // 3)
        report.setdefault(f"{deals} deals", {})[label] = {
            **spread(result.final_regret),
            "vs_uniform": round(float(np.median(result.final_regret / uniform)), 3),
            "after_first_third": spread(later),
            "vs_campaign_after_first_third": round(
                float(np.median(later / regret_since(campaign, horizon // 3))), 3
            ),
        }
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=None, help="default 20, studies 100 / 30")
    parser.add_argument("--half-life", type=float, default=50_000)
    parser.add_argument("--study", choices=("drift", "new-deals", "week"), default=None)
    parser.add_argument("--jobs", type=int, default=2, help="processes running simulations")
    parser.add_argument("--scale", type=float, default=1.0, help="horizons x this (smoke runs)")
    parser.add_argument("--deals", default="6,20,80", help="new-deals study: campaign sizes")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.study == "drift":
        name, report = (
            "regret_drift",
            drift_study(list(range(args.seeds or 100)), args.jobs, args.scale),
        )
    elif args.study == "week":
        name, report = (
            "regret_week",
            week_study(list(range(args.seeds or 20)), args.jobs, args.scale),
        )
    elif args.study == "new-deals":
        name, report = (
            "regret_new_deals",
            new_deal_study(
                list(range(args.seeds or 30)),
                args.jobs,
                args.scale,
                tuple(int(n) for n in args.deals.split(",")),
            ),
        )
    else:
        seeds = list(range(args.seeds or 20))
        cases_report = bench(seeds, args.half_life, args.jobs, args.scale)
        name, report = "regret", {"seeds": len(seeds), "cases": cases_report}
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    line = json.dumps(report)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(line + "\n")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
