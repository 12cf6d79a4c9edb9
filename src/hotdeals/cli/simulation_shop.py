"""``hotdeals simulate``'s shop, where deals are clicked, bought and paid for: it shows in money
what optimising clicks costs when the deal clicked most is not the one that earns most.

Only a simulation knows each deal's purchase rate and value, so only it can count revenue regret.
``--purchase-rates`` switches the command to :func:`hotdeals.bandit.simulate_shop`: this module
reads the shop's options (every refusal names its option, exit code 2), runs each objective and
reports, so that ``simulation.py`` only gains the options and one dispatch.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final

import numpy as np
import typer
from rich.table import Table

from hotdeals.bandit import Objective, ShopResult, expected_revenue_per_impression, simulate_shop
from hotdeals.bandit.arrays import FloatArray
from hotdeals.cli.common import out
from hotdeals.cli.plots import check_plot_path, write_regret_plot
from hotdeals.cli.progress import progress_bar
from hotdeals.cli.tables import print_table
from hotdeals.errors import InvalidRequest
from hotdeals.services.bandit_errors import bandit_errors_as_invalid_request

__all__ = [
    "ObjectivesOption",
    "PurchaseRatesOption",
    "Shop",
    "ShopSummary",
    "ValueSdOption",
    "ValuesOption",
    "check_run",
    "run_shop",
    "shop_options",
]

ObjectivesOption = Annotated[
    str | None,
    typer.Option(
        help="Shop simulation: objectives to compare, any of click,purchase,revenue (default all)."
    ),
]
PurchaseRatesOption = Annotated[
    str | None,
    typer.Option(
        help="Purchase probability given a click, one per arm in [0, 1], e.g. 0.05,0.2,0.4: "
        "simulates a shop and compares --objectives by revenue. Needs --values."
    ),
]
ValuesOption = Annotated[
    str | None,
    typer.Option(
        help="Shop simulation: median value of a purchase, one per arm (> 0), e.g. 2,4,6."
    ),
]
ValueSdOption = Annotated[
    str | None,
    typer.Option(
        help="Shop simulation: sd of a purchase's log value (>= 0), one or one per arm (default 0)."
    ),
]

# Parameters of ``simulate`` that mean nothing to the shop: it runs one Thompson sampler per
# objective, on stationary deals, with every event seen at once and no winner rule.
NOT_IN_SHOP: Final = frozenset(
    {
        "policies",
        "epsilon",
        "batch",
        "rule_report",
        "min_prob_best",
        "max_relative_loss",
        "min_impressions",
        "examination",
        "position_correction",
        "retire_prob",
        "new_arm_prior",
        "delay",
        "drift",
        "prior",
        "half_life",
    }
)
REVENUE_REGRET: Final = "cumulative revenue regret (revenue lost)"


@dataclass(frozen=True, slots=True)
class Shop:
    """Per deal the click rate, purchase rate, median value and log sd: the truth that lets
    regret be counted in money."""

    objectives: tuple[Objective, ...]
    click_rates: tuple[float, ...]
    purchase_rates: tuple[float, ...]
    values: tuple[float, ...]
    value_sds: tuple[float, ...]

    @property
    def worth(self) -> FloatArray:
        """Each deal's expected revenue per impression: the simulation's truth (inf past floats)."""
        rates = np.multiply(self.click_rates, self.purchase_rates)
        with np.errstate(over="ignore"):
            return expected_revenue_per_impression(rates, np.log(self.values), self.value_sds)


@dataclass(frozen=True, slots=True)
class ShopSummary:
    """One objective's figures over the seeds: enough to tell money earned from clicks won."""

    mean_regret: float
    sd_regret: float
    mean_revenue: float
    best_arm_share: float
    most_clicked_share: float
    expected_clicks: float
    seconds: float

    @classmethod
    def of(cls, result: ShopResult, shop: Shop, seconds: float) -> ShopSummary:
        """Sample standard deviation across seeds (0 with a single seed)."""
        final, pulls = result.final_regret, result.pulls
        most_clicked = int(np.argmax(shop.click_rates))
        return cls(
            mean_regret=float(final.mean()),
            sd_regret=float(final.std(ddof=1)) if len(final) > 1 else 0.0,
            mean_revenue=float(result.revenue.mean()),
            best_arm_share=float(result.best_arm_share.mean()),
            most_clicked_share=float((pulls[:, most_clicked] / pulls.sum(axis=1)).mean()),
            expected_clicks=float((pulls @ np.asarray(shop.click_rates)).mean()),
            seconds=seconds,
        )


def check_run(
    arms: int, k: int, horizon: int, seeds: int, batch: int, out_path: Path | None
) -> None:
    """The checks a click campaign and a shop both need, before minutes of simulation."""
    if k > arms:
        raise InvalidRequest(f"--k {k} is more slots than the {arms} arms")
    if out_path is not None:
        check_plot_path(out_path)
    for option, value in (("--horizon", horizon), ("--seeds", seeds), ("--batch", batch)):
        if value < 1:
            raise InvalidRequest(f"{option} must be >= 1, got {value}")


def shop_options(
    ctx: typer.Context,
    rates: list[float],
    objectives: str | None,
    purchase_rates: str | None,
    values: str | None,
    value_sd: str | None,
) -> Shop | None:
    """The shop the options describe, or None without ``--purchase-rates`` (a click campaign);
    refused before any work, each refusal naming its option."""
    if purchase_rates is None:
        given = {"--objectives": objectives, "--values": values, "--value-sd": value_sd}
        for option, text in given.items():
            if text is not None:
                raise InvalidRequest(f"{option} only matters with --purchase-rates")
        return None
    conflict = _option_given(ctx, NOT_IN_SHOP)
    if conflict is not None:
        raise InvalidRequest(
            f"{conflict} does not apply with --purchase-rates: the shop compares --objectives, "
            "one Thompson sampler each, without deal weeks, examination or winner rule"
        )
    if values is None:
        raise InvalidRequest("--purchase-rates needs --values (the median value of a purchase)")
    arms = len(rates)
    buys = _per_deal(purchase_rates, "--purchase-rates", arms)
    for rate in buys:
        if not 0.0 <= rate <= 1.0:
            raise InvalidRequest(f"--purchase-rates: rates must lie in [0, 1], got {rate:g}")
    medians = _per_deal(values, "--values", arms)
    for value in medians:
        if value <= 0:
            raise InvalidRequest(f"--values: median values must be > 0, got {value:g}")
    sds = [0.0] if value_sd is None else _numbers(value_sd, "--value-sd")
    if len(sds) not in (1, arms):
        raise InvalidRequest(f"--value-sd: give one sd or one per arm ({arms}), got {len(sds)}")
    for sd in sds:
        if sd < 0:
            raise InvalidRequest(f"--value-sd: log-scale sds must be >= 0, got {sd:g}")
    shop = Shop(
        objectives=_objectives(objectives),
        click_rates=tuple(rates),
        purchase_rates=tuple(buys),
        values=tuple(medians),
        value_sds=tuple(sds * arms if len(sds) == 1 else sds),
    )
    if not bool(np.all(np.isfinite(shop.worth))):
        raise InvalidRequest("--value-sd: a mean value exp(log median + sd^2 / 2) overflows")
    return shop


def run_shop(
    shop: Shop, horizon: int, seeds: int, k: int, out_path: Path | None, json_output: bool
) -> None:
    """Run every objective on the same seeds, so that their differences are their own, then plot
    and print the table or the JSON line."""
    results: dict[str, ShopResult] = {}
    summaries: dict[str, ShopSummary] = {}
    with progress_bar() as bar:
        tasks = {o: bar.add_task(o.value, total=horizon) for o in shop.objectives}
        for objective, task in tasks.items():
            started = time.perf_counter()
            with bandit_errors_as_invalid_request():
                results[objective.value] = simulate_shop(
                    objective,
                    shop.click_rates,
                    shop.purchase_rates,
                    [math.log(value) for value in shop.values],
                    shop.value_sds,
                    horizon,
                    list(range(seeds)),
                    k=k,
                )
            seconds = time.perf_counter() - started
            summaries[objective.value] = ShopSummary.of(results[objective.value], shop, seconds)
            bar.update(task, completed=horizon)

    arms = len(shop.click_rates)
    if out_path is not None:
        title = f"Shop: {arms} deals, {horizon:,} steps, {seeds} seeds, k={k}"
        write_regret_plot(out_path, results, title, y_label=REVENUE_REGRET)
        out.print(f"wrote {out_path}", highlight=False)
    worth = shop.worth
    best = int(np.argmax(worth))
    best_revenue = horizon * float(np.sort(worth)[::-1][:k].sum())
    even_split = horizon * k * float(worth.mean())
    if json_output:
        figures = ("mean_regret", "sd_regret", "mean_revenue", "best_arm_share", "expected_clicks")
        payload: dict[str, Any] = {
            "shop": {
                "objectives": {
                    name: {figure: getattr(s, figure) for figure in figures}
                    for name, s in summaries.items()
                },
                "best_arm": best,
                "best_revenue": best_revenue,
                "even_split_revenue": even_split,
            }
        }
        typer.echo(json.dumps(payload))
        return
    print_table(_table(summaries, horizon, seeds, k, arms))
    showing = "it" if k == 1 else f"the best {k}"
    out.print(
        f"Shop: the revenue-best deal is arm {best} (click rate {shop.click_rates[best]:g}, "
        f"purchase rate {shop.purchase_rates[best]:g}, median value {shop.values[best]:g}), "
        f"which earns {worth[best]:.4g} per impression; always showing {showing} earns "
        f"{best_revenue:,.1f} in {horizon:,} impressions, an even split {even_split:,.1f}",
        highlight=False,
    )


def _table(summaries: dict[str, ShopSummary], horizon: int, seeds: int, k: int, arms: int) -> Table:
    table = Table(
        title=f"Revenue regret after {horizon:,} impressions ({arms} deals; {seeds} seeds; k={k})"
    )
    table.add_column("objective", no_wrap=True)
    headers = ("mean regret", "sd", "revenue", "best-deal share", "most-clicked share", "clicks")
    for header in (*headers, "seconds"):
        table.add_column(header, justify="right")
    for name, s in summaries.items():
        table.add_row(
            name,
            f"{s.mean_regret:,.1f}",
            f"{s.sd_regret:,.1f}",
            f"{s.mean_revenue:,.1f}",
            f"{s.best_arm_share:.1%}",
            f"{s.most_clicked_share:.1%}",
            f"{s.expected_clicks:,.0f}",
            f"{s.seconds:.1f}",
        )
    return table


def _option_given(ctx: typer.Context, names: frozenset[str]) -> str | None:
    """The first of ``names`` given on the command line (not left at its default), as typed."""
    for param in ctx.command.params:
        source = ctx.get_parameter_source(param.name or "")
        if param.name not in names or source is None or source.name == "DEFAULT":
            continue
        if param.secondary_opts and ctx.params.get(param.name) is False:
            return param.secondary_opts[0]  # --no-rule-report, as typed
        return param.opts[0]
    return None


def _objectives(text: str | None) -> tuple[Objective, ...]:
    if text is None:
        return tuple(Objective)
    names = list(dict.fromkeys(piece.strip() for piece in text.split(",") if piece.strip()))
    unknown = [name for name in names if name not in {o.value for o in Objective}]
    if unknown or not names:
        raise InvalidRequest(
            f"--objectives: unknown objective {', '.join(map(repr, unknown)) or '(none given)'}; "
            f"valid names are: {', '.join(Objective)}"
        )
    return tuple(Objective(name) for name in names)


def _per_deal(text: str, option: str, arms: int) -> list[float]:
    numbers = _numbers(text, option)
    if len(numbers) != arms:
        raise InvalidRequest(f"{option}: give one per arm ({arms}, as --arms), got {len(numbers)}")
    return numbers


def _numbers(text: str, option: str) -> list[float]:
    numbers = []
    for piece in text.split(","):
        try:
            number = float(piece.strip())
        except ValueError:
            raise InvalidRequest(f"{option}: {piece.strip()!r} is not a number") from None
        if not math.isfinite(number):
            raise InvalidRequest(f"{option}: {piece.strip()!r} is not a finite number")
        numbers.append(number)
    return numbers
