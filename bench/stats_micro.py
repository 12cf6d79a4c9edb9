"""In-process cost of the maths behind ``/stats`` at 6, 100, 1,000 and 10,000 deals.

Times, in milliseconds (best of ``--repeat`` calls, each with a freshly seeded generator so
that every call does the same work; ``ms`` is wall time, ``cpu_ms`` the process's CPU time,
which other jobs on the machine disturb less), the pieces :func:`hotdeals.services.analytics.
project_stats` runs per request: ``arm_statistics`` (P(best) and expected loss at the
service's 20,000 requested draws), the judge of a revenue campaign (its own Monte Carlo),
the decision forecast (computed on a cache miss, k = 3), the uplift and the purchase figures,
in three states of a campaign:

- ``fresh``: no impressions, every deal at its Beta(1, 1) prior (every deal can win);
- ``winners``: 2,000-6,000 impressions per deal at 3%, three deals at 6% (few can win);
- ``close``: 2,000 impressions per deal, all at 3% (hundreds can win at 1,000 deals).

Prints one JSON line, also written to ``bench/results/``; ``arm_statistics`` also reports the
deals its Monte Carlo kept, its draws and its bounds.

    .venv/bin/python -m bench.stats_micro [--sizes 6,100,1000,10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import numpy as np

from hotdeals.bandit import WinnerRule, arm_statistics, forecast_decision, uplift_vs_even
from hotdeals.db.models import Bandit, Project
from hotdeals.services.judging import judge
from hotdeals.services.purchase_stats import purchase_figures
from hotdeals.vocabulary import Objective

SIZES = (6, 100, 1_000, 10_000)
STATES = ("fresh", "winners", "close")
DRAWS = 20_000  # what project_stats asks for
RESULTS = Path(__file__).with_name("results")


def deals_of(state: str, size: int) -> list[Bandit]:
    """``size`` deals in ``state`` (module docstring), with purchases at 20% of the clicks."""
    rng = np.random.default_rng(size)
    if state == "fresh":
        pulls = np.zeros(size, dtype=np.int64)
    elif state == "winners":
        pulls = rng.integers(2_000, 6_000, size=size)
    else:
        pulls = np.full(size, 2_000)
    rate = np.full(size, 0.03)
    if state == "winners":
        rate[: min(3, size)] = 0.06
    clicks = rng.binomial(pulls, rate)
    bought = rng.binomial(clicks, 0.2)
    deals = []
    for i in range(size):
        logs = rng.normal(1.0, 0.5, size=int(bought[i]))
        deals.append(
            Bandit(
                bandit_id=i + 1,
                bandit_name=f"deal {i}",
                n=int(pulls[i]),
                number_of_success=int(clicks[i]),
                number_of_failures=int(pulls[i] - clicks[i]),
                alpha=1.0 + float(clicks[i]),
                beta=1.0 + float(pulls[i] - clicks[i]),
                prior_alpha=1.0,
                prior_beta=1.0,
                active=True,
                purchases=int(bought[i]),
                purchase_value=Decimal(0),
                log_value_sum=float(logs.sum()),
                log_value_square_sum=float((logs * logs).sum()),
            )
        )
    return deals


def pieces(deals: list[Bandit]) -> dict[str, Callable[[], object]]:
    """The calls to time, each making its own generator."""
    alpha = np.array([d.alpha for d in deals])
    beta = np.array([d.beta for d in deals])
    pulls = np.array([d.n for d in deals], dtype=np.int64)
    active = np.ones(len(deals), dtype=bool)
    revenue = Project(
        project_id=1,
        objective=Objective.REVENUE,
        min_prob_best=0.95,
        max_relative_loss=0.0025,
        min_impressions=100,
    )
    shown = np.array([pulls.sum(), pulls.sum() // 2, pulls.sum() // 4], dtype=np.int64)
    clicks = int(sum(d.number_of_success for d in deals) * 1.75 / 3)
    return {
        "arm_statistics": lambda: arm_statistics(
            alpha, beta, np.random.default_rng(0), draws=DRAWS
        ),
        "judge_revenue": lambda: judge(revenue, deals, active, np.random.default_rng(0), DRAWS),
        "forecast": lambda: forecast_decision(
            alpha, beta, pulls, WinnerRule(), np.random.default_rng(1), k=min(3, len(deals))
        ),
        "uplift": lambda: uplift_vs_even(
            clicks, shown, alpha, beta, np.random.default_rng(2), draws=DRAWS
        ),
        "purchase_figures": lambda: purchase_figures(deals),
    }


def best_ms(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best wall and CPU milliseconds of ``repeat`` calls."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return round(min(wall) * 1e3, 1), round(min(cpu) * 1e3, 1)


def monte_carlo(deals: list[Bandit]) -> dict[str, float]:
    """What ``arm_statistics`` drew and how far to trust it, at the requested 20,000 draws."""
    alpha = np.array([d.alpha for d in deals])
    beta = np.array([d.beta for d in deals])
    stats = arm_statistics(alpha, beta, np.random.default_rng(0), draws=DRAWS)
    return {
        "plausible": stats.plausible,
        "draws": stats.draws,
        "screening_bound": float(f"{stats.screening_bound:.3g}"),
        "loss_bound": float(f"{stats.loss_bound:.3g}"),
        "max_prob_best_se": round(float(stats.prob_best_se.max()), 4),
        "prob_best_sum": round(float(stats.prob_best.sum()), 6),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    ms: dict[str, dict[str, dict[str, float]]] = {state: {} for state in STATES}
    cpu_ms: dict[str, dict[str, dict[str, float]]] = {state: {} for state in STATES}
    monte: dict[str, dict[str, dict[str, float]]] = {state: {} for state in STATES}
    for state in STATES:
        for size in sizes:
            deals = deals_of(state, size)
            # Fewer repeats where one call takes seconds: the figure is then its own noise.
            repeat = args.repeat if size <= 1_000 else 1
            times = {name: best_ms(call, repeat) for name, call in pieces(deals).items()}
            for figures, which in ((ms, 0), (cpu_ms, 1)):
                row = {name: pair[which] for name, pair in times.items()}
                row["total"] = round(math.fsum(row.values()), 1)
                figures[state][str(size)] = row
            monte[state][str(size)] = monte_carlo(deals)
    report: dict[str, object] = {"ms": ms, "cpu_ms": cpu_ms, "arm_statistics": monte}
    report["draws"] = DRAWS
    report["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    line = json.dumps(report, sort_keys=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"stats-micro-{report['when']}.json").write_text(line + "\n")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
