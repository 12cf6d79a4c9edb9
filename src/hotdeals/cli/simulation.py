"""``hotdeals simulate``: compare policies on arms with known click rates, in memory.

Regret can only be measured where the true rates are known, so this is where an analyst checks
that a policy is worth trusting before a campaign uses it. The maths is the bandit package's
vectorised simulation; this module only reads the rates, drives the progress bar and reports.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.progress import Progress, TaskID
from rich.table import Table

from hotdeals.bandit import (
    POLICY_NAMES,
    Criterion,
    RuleTracker,
    SimulationResult,
    WinnerRule,
)
from hotdeals.bandit.decision_study import study_generator
from hotdeals.cli import simulation_shop as shop_mode
from hotdeals.cli.common import out, reports_errors
from hotdeals.cli.plots import write_regret_plot
from hotdeals.cli.progress import progress_bar
from hotdeals.cli.simulation_rules import (
    RuleSummary,
    parse_examination,
    rule_json,
    rule_table,
    winner_rule,
)
from hotdeals.cli.simulation_weeks import (
    DelayOption,
    DriftOption,
    HalfLifeOption,
    NewArmPriorOption,
    PriorOption,
    RetireProbOption,
    run_policy,
    weeks_caption,
    weeks_json,
    weeks_options,
)
from hotdeals.cli.tables import print_table
from hotdeals.errors import InvalidRequest
from hotdeals.services.bandit_errors import bandit_errors_as_invalid_request, checked_policy

__all__ = ["PolicySummary", "parse_policies", "parse_rates", "read_rates_file", "simulate_command"]

DEFAULT_POLICIES = ",".join(POLICY_NAMES)
# Posterior draws per seed and checkpoint for the winner rule: a probability's Monte Carlo
# error is then at most 0.016 (one sd), enough to see when a threshold is crossed.
RULE_DRAWS = 1000
DEFAULT_RULE = WinnerRule()


@dataclass(frozen=True, slots=True)
class PolicySummary:
    """A policy's final regret over the seeds and the share of traffic its best arm got."""

    mean_regret: float
    sd_regret: float
    min_regret: float
    max_regret: float
    best_arm_share: float
    seconds: float

    @classmethod
    def of(cls, result: SimulationResult, seconds: float) -> PolicySummary:
        """Sample standard deviation across seeds (0 with a single seed)."""
        final = result.final_regret
        return cls(
            mean_regret=float(final.mean()),
            sd_regret=float(final.std(ddof=1)) if len(final) > 1 else 0.0,
            min_regret=float(final.min()),
            max_regret=float(final.max()),
            best_arm_share=float(result.best_arm_share.mean()),
            seconds=seconds,
        )


def parse_rates(text: str, source: str = "--arms") -> list[float]:
    """Comma-separated click rates, each a number in [0, 1]."""
    return _check_rates([_rate(piece, source) for piece in text.split(",")], source)


def read_rates_file(path: Path) -> list[float]:
    """One click rate per line; blank lines and lines starting with ``#`` are skipped."""
    source = f"--arms-file {path}"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InvalidRequest(f"{source}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidRequest(f"{source}: cannot read it ({exc})") from None
    rates = [
        _rate(line, f"{source} line {number}")
        for number, line in enumerate(lines, start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    return _check_rates(rates, source)


def parse_policies(text: str) -> list[str]:
    """Known policy names, in the order given, each once."""
    names = list(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))
    unknown = [n for n in names if n not in POLICY_NAMES]
    if unknown or not names:
        raise InvalidRequest(
            f"--policies: unknown policy {', '.join(map(repr, unknown)) or '(none given)'}; "
            f"valid names are: {', '.join(POLICY_NAMES)}"
        )
    return names


@reports_errors
def simulate_command(
    ctx: typer.Context,
    arms: Annotated[
        str | None,
        typer.Option(help="True click rates of the arms, comma-separated, e.g. 0.02,0.04,0.08."),
    ] = None,
    arms_file: Annotated[
        Path | None,
        typer.Option(help="File with one true click rate per line (instead of --arms)."),
    ] = None,
    horizon: Annotated[int, typer.Option(help="Impressions (steps) per run.")] = 10_000,
    policies: Annotated[str, typer.Option(help="Policies to compare, comma-separated.")] = (
        DEFAULT_POLICIES
    ),
    seeds: Annotated[int, typer.Option(help="Runs per policy (seeds 0..N-1).")] = 10,
    k: Annotated[int, typer.Option("--k", help="Slots shown per impression.")] = 1,
    batch: Annotated[int, typer.Option(help="Update the posteriors every N steps.")] = 1,
    epsilon: Annotated[float, typer.Option(help="Exploration rate of epsilon_greedy.")] = 0.1,
    out_path: Annotated[
        Path | None,
        typer.Option("--out", help="Write a regret plot: .png (matplotlib) or .html (plotly)."),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON object (last line) instead of a table.")
    ] = False,
    rule_report: Annotated[
        bool,
        typer.Option(help="Report when the winner rule fires and whether it names the best arm."),
    ] = True,
    min_prob_best: Annotated[
        float, typer.Option(help="Winner rule: P(best) that names the leader.")
    ] = DEFAULT_RULE.min_prob_best,
    max_relative_loss: Annotated[
        float,
        typer.Option(
            help="Winner rule: expected loss, relative to the leader's CTR, that names it (0: off)."
        ),
    ] = DEFAULT_RULE.max_relative_loss,
    min_impressions: Annotated[
        int, typer.Option(help="Winner rule: impressions the leader needs first.")
    ] = DEFAULT_RULE.min_impressions,
    examination: Annotated[
        str | None,
        typer.Option(
            help="Examination probability of each slot, e.g. 1,0.75,0.6 (one per --k slot): "
            "a deal in slot p is clicked with probability rate x e_p."
        ),
    ] = None,
    position_correction: Annotated[
        bool,
        typer.Option(
            "--position-correction",
            help="Rank by position-corrected posteriors (each seed fits its own examination).",
        ),
    ] = False,
    retire_prob: RetireProbOption = 0.0,
    new_arm_prior: NewArmPriorOption = None,
    delay: DelayOption = None,
    drift: DriftOption = None,
    prior: PriorOption = "campaign",
    half_life: HalfLifeOption = None,
    objectives: shop_mode.ObjectivesOption = None,
    purchase_rates: shop_mode.PurchaseRatesOption = None,
    values: shop_mode.ValuesOption = None,
    value_sd: shop_mode.ValueSdOption = None,
) -> None:
    """Simulate policies on arms with known click rates and compare their regret.

    Regret is the expected clicks lost against always showing the truly best
    deals. The table gives its mean and standard deviation over the seeds and
    the share of impressions that went to the best arm.

    The winner rule's report says, per policy, on how many seeds the rule
    named a winner within the horizon, after how many impressions (median and
    90th percentile, at the resolution of 200 checkpoints), and how many of the
    named deals were not the truly best.

    Deal weeks (--retire-prob, --drift, --prior empirical, --half-life) run the
    non-stationary simulator; regret is then against the best deals alive, and
    the winner rule is reported only when the true rates never change.

    --purchase-rates and --values simulate a shop instead: --objectives are
    compared by the revenue they earn, --arms being the deals' click rates.

    Example: hotdeals simulate --arms 0.02,0.04,0.08 --seeds 10 --out regret.png
    """
    if arms is not None and arms_file is not None:
        raise InvalidRequest("give the true click rates with --arms or --arms-file, not both")
    if arms is not None:
        rates = parse_rates(arms)
    elif arms_file is not None:
        rates = read_rates_file(arms_file)
    else:
        raise InvalidRequest("give the true click rates with --arms or --arms-file")
    shop = shop_mode.shop_options(ctx, rates, objectives, purchase_rates, values, value_sd)
    names = parse_policies(policies)
    shop_mode.check_run(len(rates), k, horizon, seeds, batch, out_path)
    if shop is not None:
        return shop_mode.run_shop(shop, horizon, seeds, k, out_path, json_output)
    chosen = {name: checked_policy(name, epsilon, context="--epsilon") for name in names}
    weeks, batch = weeks_options(
        retire_prob=retire_prob,
        new_arm_prior=new_arm_prior,
        drift=drift,
        prior=prior,
        half_life=half_life,
        delay=delay,
        batch=batch,
        position_correction=position_correction,
        arms=len(rates),
        horizon=horizon,
    )
    rule_report = rule_report and (weeks is None or weeks.arms_fixed)
    rule = winner_rule(min_prob_best, max_relative_loss, min_impressions)
    factors = None if examination is None else parse_examination(examination, k)

    results: dict[str, SimulationResult] = {}
    summaries: dict[str, PolicySummary] = {}
    rule_summaries: dict[str, RuleSummary] = {}
    with progress_bar() as bar:
        tasks = {name: bar.add_task(name, total=horizon) for name in names}
        for name, policy in chosen.items():
            started = time.perf_counter()
            seed_list = list(range(seeds))
            tracker = (
                RuleTracker([Criterion(rule)], study_generator(seed_list), draws=RULE_DRAWS)
                if rule_report
                else None
            )
            with bandit_errors_as_invalid_request():
                results[name] = run_policy(
                    policy,
                    rates,
                    horizon,
                    seed_list,
                    weeks=weeks,
                    k=k,
                    batch=batch,
                    progress=_advance(bar, tasks[name]),
                    observe=tracker,
                    examination=factors,
                    position_correction=position_correction,
                )
            summaries[name] = PolicySummary.of(results[name], time.perf_counter() - started)
            if tracker is not None:
                rule_summaries[name] = RuleSummary.of(tracker.results(rates, horizon)[0])

    if out_path is not None:
        title = f"{len(rates)} arms, {horizon:,} steps, {seeds} seeds, k={k}"
        write_regret_plot(out_path, results, title)
        out.print(f"wrote {out_path}", highlight=False)
    best = int(np.argmax(rates))
    if json_output:
        payload: dict[str, Any] = {
            "policies": {
                name: {
                    "mean_regret": s.mean_regret,
                    "sd_regret": s.sd_regret,
                    "best_arm_share": s.best_arm_share,
                }
                for name, s in summaries.items()
            }
        }
        if rule_report:
            payload["winner_rule"] = rule_json(rule, rule_summaries, best)
        payload.update(weeks_json(weeks, batch))
        typer.echo(json.dumps(payload))
        return
    print_table(_table(summaries, rates, horizon, seeds, k, batch))
    if weeks is not None:
        out.print(weeks_caption(weeks, batch), highlight=False)
    if rule_report:
        print_table(rule_table(rule, rule_summaries, best))


def _advance(bar: Progress, task: TaskID) -> Callable[[int], None]:
    return lambda done: bar.update(task, completed=done)


def _table(
    summaries: dict[str, PolicySummary],
    rates: list[float],
    horizon: int,
    seeds: int,
    k: int,
    batch: int,
) -> Table:
    best = int(np.argmax(rates))
    table = Table(
        title=(
            f"Regret after {horizon:,} impressions ({len(rates)} arms, best arm {best} at "
            f"{rates[best]:g}; {seeds} seeds; k={k}; batch={batch})"
        )
    )
    table.add_column("policy", no_wrap=True)
    for header in ("mean regret", "sd", "min", "max", "best-arm share", "seconds"):
        table.add_column(header, justify="right")
    for name, s in summaries.items():
        table.add_row(
            name,
            f"{s.mean_regret:,.1f}",
            f"{s.sd_regret:,.1f}",
            f"{s.min_regret:,.1f}",
            f"{s.max_regret:,.1f}",
            f"{s.best_arm_share:.1%}",
            f"{s.seconds:.1f}",
        )
    return table


def _rate(text: str, source: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise InvalidRequest(f"{source}: {text.strip()!r} is not a number") from None
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise InvalidRequest(f"{source}: click rates must lie in [0, 1], got {text.strip()}")
    return value


def _check_rates(rates: list[float], source: str) -> list[float]:
    if len(rates) < 2:
        raise InvalidRequest(f"{source}: at least 2 arms are needed, got {len(rates)}")
    return rates
