"""Position effects in simulation: what plain counting gets wrong and what correcting it is worth.

Slots are examined with probabilities 1.0 / 0.75 / 0.6 (k = 3, 6 deals unless said otherwise);
a deal in slot p is clicked with probability rate * e_p. Three measurements, each over
``--seeds`` runs of Thompson sampling (``hotdeals.bandit.simulate``):

* ``bias``: the plainly counted CTR of each deal against its true rate, beside the slot it
  spent most of its impressions in; and the position-corrected posterior mean.
* ``fit``: the PBM examination fit (``fit_examination``) against the truth after 20,000 and
  100,000 impressions, on random slates (every order equally likely), on Thompson's own
  allocation, and on Thompson's with 5% of the ranks shown in random order.
* ``decision``: two close deals (14% vs 13%, four weaker ones; also after a quarter of the
  ranks, and without any position effect) and ten deals at 1..10%, ranked from
  plain or from position-corrected posteriors (fitted; fitted with 5% of ranks in random order;
  corrected with the true examination, the oracle): the share of runs in which the final
  posterior gives P(best) > 0.95 to a deal that is not the best (and to the best one), and the
  regret, with the share saved against plain ranking.

Prints one JSON line, also written to ``bench/results/``. 3.5 to 4 minutes on two cores:

    nice .venv/bin/python -m bench.position_study [--seeds 100]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hotdeals.bandit import ThompsonSampling, Uniform, arm_statistics
from hotdeals.bandit.positions import corrected_posteriors
from hotdeals.bandit.simulate import SimulationResult, simulate

RESULTS = Path(__file__).with_name("results")
EXAMINATION = (1.0, 0.75, 0.6)
SPREAD = (0.10, 0.08, 0.06, 0.04, 0.03, 0.02)
CLOSE = (0.14, 0.13, 0.06, 0.05, 0.04, 0.03)
TEN = tuple(round(0.01 * i, 2) for i in range(10, 0, -1))
SHUFFLE = 0.05  # share of ranks shown in random order, where a variant asks for it
DRAWS = 4_000  # P(best) to +-0.004 (one Monte Carlo standard error at 0.95)


def bias(seeds: list[int], horizon: int) -> dict[str, Any]:
    """Plain and corrected CTR of each deal of SPREAD, relative to its true rate."""
    result = simulate(ThompsonSampling(), SPREAD, horizon, seeds, k=3, examination=EXAMINATION)
    pulls, clicks, fits = _slot_data(result)
    plain_ratio = clicks.sum(axis=2) / np.maximum(pulls.sum(axis=2), 1) / SPREAD
    corrected = np.empty_like(plain_ratio)
    for s in range(len(seeds)):
        alpha, beta = corrected_posteriors(pulls[s], clicks[s], fits[s], 1.0, 1.0)
        corrected[s] = alpha / (alpha + beta) / SPREAD
    share = pulls.sum(axis=0) / pulls.sum(axis=(0, 2))[:, np.newaxis]
    return {
        "rates": list(SPREAD),
        "ranks": horizon,
        "main_slot": (np.argmax(share, axis=1) + 1).tolist(),
        "share_in_main_slot": _round(share.max(axis=1)),
        "plain_over_true_median": _round(np.median(plain_ratio, axis=0)),
        "corrected_over_true_median": _round(np.median(corrected, axis=0)),
        "fitted_examination_median": _round(np.median(fits, axis=0)),
    }


def fit_error(seeds: list[int], impressions: int) -> dict[str, Any]:
    """Mean absolute error of the fitted e_p (slots 2 and 3) after ``impressions``."""
    report: dict[str, Any] = {}
    for name, policy, share in (
        ("random_order", Uniform(), 0.0),
        ("thompson", ThompsonSampling(), 0.0),
        ("thompson_shuffle_5pct", ThompsonSampling(), SHUFFLE),
    ):
        result = simulate(
            policy,
            SPREAD,
            impressions // 3,
            seeds,
            k=3,
            examination=EXAMINATION,
            shuffle_share=share,
        )
        _, _, fits = _slot_data(result)
        error = fits[:, 1:] - np.array(EXAMINATION[1:])
        report[name] = {
            "mean_abs_error": _round(np.abs(error).mean(axis=0)),
            "mean_error": _round(error.mean(axis=0)),
            "p90_abs_error": _round(np.percentile(np.abs(error), 90, axis=0)),
        }
    return report


# How each variant ranks: position_correction, shuffle_share, known_examination.
VARIANTS: dict[str, dict[str, Any]] = {
    "plain": {},
    "corrected": {"position_correction": True},
    "corrected_shuffle_5pct": {"position_correction": True, "shuffle_share": SHUFFLE},
    "corrected_known_examination": {"position_correction": True, "known_examination": True},
}


def decision(
    seeds: list[int], rates: Sequence[float], horizon: int, examination: Sequence[float]
) -> dict[str, Any]:
    """Plain against corrected ranking on one case: wrong and right winners, regret."""
    best = int(np.argmax(rates))
    report: dict[str, Any] = {"rates": list(rates), "examination": list(examination)}
    regrets = {}
    for name, options in VARIANTS.items():
        result = simulate(
            ThompsonSampling(), rates, horizon, seeds, k=3, examination=examination, **options
        )
        pulls, clicks, fits = _slot_data(result)
        if options.get("known_examination"):
            fits = np.broadcast_to(np.asarray(examination), fits.shape)
        wrong = right = 0
        rng = np.random.default_rng(12345)  # the same draws for every variant's verdicts
        for s in range(len(seeds)):
            if options.get("position_correction"):
                alpha, beta = corrected_posteriors(pulls[s], clicks[s], fits[s], 1.0, 1.0)
            else:
                alpha = 1.0 + clicks[s].sum(axis=1)
                beta = 1.0 + pulls[s].sum(axis=1) - clicks[s].sum(axis=1)
            prob_best = arm_statistics(alpha, beta, rng, draws=DRAWS).prob_best
            leader = int(np.argmax(prob_best))
            if prob_best[leader] > 0.95:
                right += leader == best
                wrong += leader != best
        regrets[name] = result.final_regret
        saved = regrets["plain"] - result.final_regret
        report[name] = {
            "wrong_winner_share": wrong / len(seeds),
            "right_winner_share": right / len(seeds),
            "regret_mean": round(float(result.final_regret.mean()), 1),
            "regret_saved_share": round(float(saved.mean() / regrets["plain"].mean()), 3),
            # Paired by seed (the same clicks' uniforms unless shuffling): its standard error.
            "regret_saved_standard_error": round(
                float(saved.std(ddof=1) / np.sqrt(len(seeds)) / regrets["plain"].mean()), 3
            ),
        }
    return report


def _slot_data(result: SimulationResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if result.slot_pulls is None or result.slot_clicks is None or result.examination_fit is None:
        raise RuntimeError("the simulation recorded no slot counters")
    return result.slot_pulls, result.slot_clicks, result.examination_fit


def _round(values: np.ndarray) -> list[float]:
    return [round(float(v), 3) for v in values]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--ranks", type=int, default=20_000, help="ranks per decision run")
    args = parser.parse_args(argv)
    seeds = list(range(args.seeds))
    started = time.perf_counter()
    report: dict[str, Any] = {
        "seeds": args.seeds,
        "bias": bias(seeds, args.ranks),
        "fit_error": {str(n): fit_error(seeds, n) for n in (20_000, 100_000)},
        "decision": {
            "close_14_13": decision(seeds, CLOSE, args.ranks, EXAMINATION),
            "close_14_13_early": decision(seeds, CLOSE, args.ranks // 4, EXAMINATION),
            "close_14_13_no_position_effect": decision(seeds, CLOSE, args.ranks, (1.0,) * 3),
            "ten_deals_1_to_10": decision(seeds, TEN, args.ranks, EXAMINATION),
        },
        "decision_ranks": args.ranks,
    }
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    line = json.dumps(report, sort_keys=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"position-study-{report['when']}.json").write_text(line + "\n")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
