"""In-process ranking speed: ``rank()`` of every policy over 6, 100, 1,000 and 10,000 arms.

Arms carry realistic posteriors (a few hundred impressions, click rates around 3%), k = 3.
Prints one JSON line of microseconds per call (best of several timeit repeats), also written to
``bench/results/``. Target: Thompson sampling over 1,000 arms under 100 microseconds.

    .venv/bin/python -m bench.rank_micro
"""

from __future__ import annotations

import json
import sys
import time
import timeit
from pathlib import Path

import numpy as np

from hotdeals.bandit import POLICY_NAMES, ArmSet, make_policy

SIZES = (6, 100, 1_000, 10_000)
RESULTS = Path(__file__).with_name("results")


def arms_of(size: int, rng: np.random.Generator) -> ArmSet:
    pulls = rng.integers(100, 1_000, size=size)
    successes = rng.binomial(pulls, 0.03)
    return ArmSet.from_counts(successes, pulls)


def microseconds_per_call(policy_name: str, size: int) -> float:
    rng = np.random.default_rng(0)
    arms = arms_of(size, rng)
    policy = make_policy(policy_name)
    timer = timeit.Timer(lambda: policy.rank(arms, 3, rng))
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=5, number=number)) / number * 1e6


def main() -> int:
    report: dict[str, object] = {
        policy: {str(size): round(microseconds_per_call(policy, size), 1) for size in SIZES}
        for policy in POLICY_NAMES
    }
    thompson_1000 = report["thompson"]["1000"]  # type: ignore[index]
    report["target_thompson_1000_under_100us"] = thompson_1000 < 100
    report["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    line = json.dumps(report, sort_keys=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"rank-micro-{report['when']}.json").write_text(line + "\n")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
