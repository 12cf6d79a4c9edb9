"""``hotdeals simulate``'s deal-week options: churn, drift, delay, informed priors, forgetting.

With none of them the command runs the stationary simulator whose figures the docs quote; with
any of them, :func:`hotdeals.bandit.simulate_weeks`. This module reads the options into one
:class:`~hotdeals.bandit.DealWeeks` (every refusal names its option, exit code 2), and picks the
simulator, so that ``simulation.py`` only gains the options themselves.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any

import typer

from hotdeals.bandit import (
    DealWeeks,
    Drift,
    NewDealPrior,
    Policy,
    SimulationResult,
    simulate,
    simulate_weeks,
)
from hotdeals.bandit.simulate import Observer
from hotdeals.errors import InvalidRequest

__all__ = [
    "DelayOption",
    "DriftOption",
    "HalfLifeOption",
    "NewArmPriorOption",
    "PriorOption",
    "RetireProbOption",
    "parse_drifts",
    "run_policy",
    "weeks_caption",
    "weeks_json",
    "weeks_options",
]

RetireProbOption = Annotated[
    float,
    typer.Option(
        help="Each step, the probability that one deal, chosen at random, retires and a new one "
        "takes its place (regret against the best deal alive). Needs --new-arm-prior."
    ),
]
NewArmPriorOption = Annotated[
    str | None,
    typer.Option(help="A,B: new deals' true click rates are drawn from Beta(A, B), e.g. 4,4."),
]
DelayOption = Annotated[
    int | None,
    typer.Option(help="Rewards revealed in batches every D steps (the same as --batch D)."),
]
DriftOption = Annotated[
    str | None,
    typer.Option(
        help="STEP:ARM:CTR,...: from STEP on, arm ARM (0-based, in --arms order) is clicked at CTR."
    ),
]
PriorOption = Annotated[
    str,
    typer.Option(
        help="Prior of a deal added while running: campaign (Beta(1, 1)) or empirical "
        "(fitted to the other deals)."
    ),
]
HalfLifeOption = Annotated[
    float | None,
    typer.Option(help="Rank by posteriors discounted with this half-life, in steps (default off)."),
]


def weeks_options(
    *,
    retire_prob: float,
    new_arm_prior: str | None,
    drift: str | None,
    prior: str,
    half_life: float | None,
    delay: int | None,
    batch: int,
    position_correction: bool,
    arms: int,
    horizon: int,
) -> tuple[DealWeeks | None, int]:
    """The deal week the options describe (None: a stationary campaign) and the batch to use."""
    if delay is not None:
        if delay < 1:
            raise InvalidRequest(f"--delay must be >= 1, got {delay}")
        if batch not in (1, delay):
            raise InvalidRequest("give --delay or --batch, not both")
        batch = delay
    if not (math.isfinite(retire_prob) and 0.0 <= retire_prob <= 1.0):
        raise InvalidRequest(f"--retire-prob must be in [0, 1], got {retire_prob:g}")
    if retire_prob > 0 and new_arm_prior is None:
        raise InvalidRequest(
            "--retire-prob needs --new-arm-prior A,B (new deals' CTR ~ Beta(A, B))"
        )
    if new_arm_prior is not None and retire_prob == 0:
        raise InvalidRequest("--new-arm-prior only matters with --retire-prob > 0")
    if prior not in set(NewDealPrior):
        raise InvalidRequest(f"--prior must be {' or '.join(NewDealPrior)}, got {prior!r}")
    if half_life is not None and not (math.isfinite(half_life) and half_life > 0):
        raise InvalidRequest(f"--half-life must be > 0 (steps), got {half_life:g}")
    drifts = () if drift is None else parse_drifts(drift, arms, horizon)
    if retire_prob == 0 and not drifts and prior == NewDealPrior.CAMPAIGN and half_life is None:
        return None, batch
    if position_correction:
        raise InvalidRequest(
            "--position-correction cannot be combined with --retire-prob, --drift, "
            "--prior empirical or --half-life"
        )
    pair = (1.0, 1.0) if new_arm_prior is None else _beta_pair(new_arm_prior)
    weeks = DealWeeks(
        retire_prob=retire_prob,
        new_arm_prior=pair,
        drifts=drifts,
        prior=NewDealPrior(prior),
        half_life=half_life,
    )
    return weeks, batch


def parse_drifts(text: str, arms: int, horizon: int) -> tuple[Drift, ...]:
    """``STEP:ARM:CTR`` items, comma-separated; each must name an arm and a step that exist."""
    drifts = []
    for item in text.split(","):
        parts = item.strip().split(":")
        try:
            step, arm, rate = int(parts[0]), int(parts[1]), float(parts[2])
        except (ValueError, IndexError):
            raise InvalidRequest(f"--drift: {item.strip()!r} is not STEP:ARM:CTR") from None
        if len(parts) != 3:
            raise InvalidRequest(f"--drift: {item.strip()!r} is not STEP:ARM:CTR")
        if not 0 <= arm < arms:
            raise InvalidRequest(f"--drift: arm {arm} does not exist ({arms} arms, from 0)")
        if not 0 <= step < horizon:
            raise InvalidRequest(f"--drift: step {step} is not within the horizon {horizon:,}")
        if not (math.isfinite(rate) and 0.0 <= rate <= 1.0):
            raise InvalidRequest(f"--drift: click rates must lie in [0, 1], got {parts[2]}")
        drifts.append(Drift(step=step, arm=arm, rate=rate))
    return tuple(drifts)


def run_policy(
    policy: Policy,
    rates: list[float],
    horizon: int,
    seeds: list[int],
    *,
    weeks: DealWeeks | None,
    k: int,
    batch: int,
    progress: Callable[[int], None],
    observe: Observer | None,
    examination: list[float] | None,
    position_correction: bool,
) -> SimulationResult:
    """One policy on the stationary simulator, or on the deal-week one when ``weeks`` is set."""
    if weeks is None:
        return simulate(
            policy,
            rates,
            horizon,
            seeds,
            k=k,
            batch=batch,
            progress=progress,
            observe=observe,
            examination=examination,
            position_correction=position_correction,
        )
    return simulate_weeks(
        policy,
        rates,
        horizon,
        seeds,
        weeks,
        k=k,
        delay=batch,
        examination=examination,
        progress=progress,
        observe=observe,
    )


def weeks_json(weeks: DealWeeks | None, batch: int) -> dict[str, Any]:
    """The ``deal_weeks`` member of ``--json``: the world simulated (empty when stationary)."""
    if weeks is None:
        return {}
    return {
        "deal_weeks": {
            "retire_prob": weeks.retire_prob,
            "new_arm_prior": list(weeks.new_arm_prior),
            "drifts": [[d.step, d.arm, d.rate] for d in weeks.drifts],
            "prior": weeks.prior.value,
            "half_life": weeks.half_life,
            "delay": batch,
        }
    }


def weeks_caption(weeks: DealWeeks, batch: int) -> str:
    """One line under the regret table saying which deal week was simulated."""
    parts = ["regret against the best deals alive"]
    if weeks.retire_prob > 0:
        a, b = weeks.new_arm_prior
        parts.append(f"retire prob {weeks.retire_prob:g} (new CTRs ~ Beta({a:g}, {b:g}))")
    parts.extend(f"arm {d.arm} at {d.rate:g} from step {d.step:,}" for d in weeks.drifts)
    parts.append(f"new deals' prior: {weeks.prior.value}")
    half_life = "off" if weeks.half_life is None else f"{weeks.half_life:,g} steps"
    parts.append(f"half-life {half_life}; delay {batch}")
    return "Deal weeks: " + "; ".join(parts)


def _beta_pair(text: str) -> tuple[float, float]:
    pieces = [piece.strip() for piece in text.split(",")]
    try:
        values = [float(piece) for piece in pieces]
    except ValueError:
        values = []
    if len(values) != 2 or not all(math.isfinite(v) and v > 0 for v in values):
        raise InvalidRequest(f"--new-arm-prior: give two numbers A,B > 0, got {text!r}")
    return values[0], values[1]
