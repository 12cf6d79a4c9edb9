"""``hotdeals stats`` and ``hotdeals export``: a campaign's figures and its raw log, offline.

The same statistics and decision panel as the dashboard (``services.analytics.project_stats``),
so a terminal and the browser never disagree; the export streams the log in batches, so it
works on any size.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer
from pydantic import TypeAdapter
from rich import box
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from hotdeals.cli.common import database, out, reports_errors
from hotdeals.cli.decision_report import print_decision
from hotdeals.cli.progress import progress_bar
from hotdeals.cli.tables import print_table
from hotdeals.config import get_settings
from hotdeals.db.types import utcnow
from hotdeals.errors import InvalidRequest
from hotdeals.services.analytics import DealStats, ProjectStats, project_stats
from hotdeals.services.export import count_transactions, export_csv, export_parquet
from hotdeals.services.projects import get_project
from hotdeals.services.schedules import effective_status
from hotdeals.services.stats_caches import StatsCaches
from hotdeals.web.arm_table import shows_purchases
from hotdeals.web.learning import half_life_text, new_deal_prior_text, prior_note, recent_label
from hotdeals.web.windows import window_text

__all__ = ["export", "stats"]

Format = Literal["csv", "parquet"]
_HEADERS = ("impr.", "clicks", "CTR", "mean", "95% interval", "P(best)", "exp. loss", "24h")
# Position-corrected figures, when there are any: each impression counts as its slot's
# examination probability, so the CTR reads as if the deal had always been in slot 1.
_CORRECTED_TITLE = "position-corrected: the CTR had each deal always been in slot 1"
_CORRECTED = ("CTR", "95% interval")
# With a half-life: the discounted figures rank samples from (impressions weighted by age).
_RECENT = ("impr.", "clicks", "mean", "95% interval")
# Once a deal has a purchase (as on the dashboard): purchases, their value, the conversion's
# posterior mean and the revenue per impression's posterior median, each with its 95% interval;
# so that the table fits 100 columns, the revenue per click is left to --json.
_PURCHASES = ("purchases", "value", "conv.", "95% interval", "rev./impr.", "95% interval")
# The figures as the API's ``GET /api/projects/{id}/stats`` sends them (NaN as null).
_STATS = TypeAdapter(ProjectStats)
_SUFFIX_FORMATS: dict[str, Format] = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


@reports_errors
def stats(
    project_id: Annotated[int, typer.Argument(help="The campaign's project_id.")],
    json_output: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object (last line) instead: the API's /stats body, and the "
            "campaign's stored and effective status.",
        ),
    ] = False,
) -> None:
    """Show a campaign's per-deal table and decision panel, as on the dashboard, and its
    winner if there is one.

    Example: hotdeals stats 1
    """
    now = utcnow()
    with database() as (_, sessions), sessions.begin() as session:
        project = get_project(session, project_id)
        figures = project_stats(
            session,
            project_id,
            draws=get_settings().hotdeals_stats_draws,
            now=now,
            caches=StatsCaches(),
        )
        effective = effective_status(
            project.status,
            has_winner=project.winner_bandit_id is not None,
            starts_at=project.starts_at,
            ends_at=project.ends_at,
            end_action=project.end_action,
            now=now,
        )
        title = (
            f"project {project.project_id} {escape(repr(project.project_name))}: {project.status}, "
            f"policy {project.policy}, {project.slots} slot(s)"
        )
        schedule = f"runs {window_text(project.starts_at, project.ends_at)}"
        if project.ends_at is not None:
            schedule += f", then {project.end_action}"
        half_life = project.half_life_hours
        currency = project.currency
        prior = (project.prior_alpha, project.prior_beta)
        forgetting = "off" if half_life is None else f"half-life {half_life_text(half_life)}"
        learning = (
            f"forgetting: {forgetting}; new deals start from "
            f"{new_deal_prior_text(project.new_deal_prior, *prior)}"
        )
        notes = [
            f"  {escape(b.bandit_name)} (bandit {b.bandit_id}) {note}"
            for b in project.bandits
            if (note := prior_note((b.prior_alpha, b.prior_beta), prior)) is not None
        ]
    if json_output:
        body = json.loads(_STATS.dump_json(figures))
        typer.echo(json.dumps({**body, "status": project.status, "effective_status": effective}))
        return
    print_table(_table(title, _HEADERS, [_row(deal) for deal in figures.bandits]))
    if any(d.ctr_corrected is not None for d in figures.bandits):
        rows = [_corrected_row(deal) for deal in figures.bandits]
        print_table(_table(_CORRECTED_TITLE, _CORRECTED, rows))
    if half_life is not None:
        rows = [_recent_row(deal) for deal in figures.bandits]
        print_table(_table(_recent_title(half_life), _RECENT, rows))
    if shows_purchases(figures):
        rows = [_purchase_row(deal) for deal in figures.bandits]
        print_table(_table(_purchases_title(currency), _PURCHASES, rows))
    out.print(f"rank now: {effective}; {schedule}", highlight=False)
    out.print(learning, highlight=False)
    for note in notes:
        out.print(note, highlight=False)
    print_decision(figures)
    if figures.winner is not None:
        winner = figures.winner
        how = "chosen by the analyst" if winner.chosen else "by the winner rule"
        out.print(
            f"winner: {escape(winner.bandit_name)} (bandit {winner.bandit_id}), "
            f"P(best) = {winner.prob_best:.1%} ({how})",
            highlight=False,
        )
    else:
        out.print("no winner yet", highlight=False)


@reports_errors
def export(
    project_id: Annotated[int, typer.Argument(help="The campaign's project_id.")],
    out_path: Annotated[Path, typer.Option("--out", help="File to write.")],
    file_format: Annotated[
        str | None,
        typer.Option("--format", help="csv or parquet (default: from the file name's extension)."),
    ] = None,
) -> None:
    """Write a campaign's transactions log to a CSV or Parquet file, in batches.

    Columns: transaction_id, timestamp, customer_id, project_id, bandit_id,
    bandit_name, position, clicked, clicked_at, purchases, purchase_value,
    purchased_at (timestamps in UTC, values in the campaign's currency).

    Example: hotdeals export 1 --format parquet --out week48.parquet
    """
    chosen = _format(file_format, out_path)
    with database() as (engine, sessions):
        with sessions.begin() as session:
            total = count_transactions(session, project_id)
        with progress_bar() as bar:
            task = bar.add_task(f"exporting project {project_id}", total=total)

            def advance(done: int) -> None:
                bar.update(task, completed=done)

            writer = export_csv if chosen == "csv" else export_parquet
            rows = writer(engine, project_id, out_path, advance)
    out.print(f"wrote {rows:,} transactions to {out_path} ({chosen})", highlight=False)


def _format(given: str | None, path: Path) -> Format:
    if given is not None:
        if given.lower() not in ("csv", "parquet"):
            raise InvalidRequest(f"--format {given!r}: use csv or parquet")
        return "csv" if given.lower() == "csv" else "parquet"
    found = _SUFFIX_FORMATS.get(path.suffix.lower())
    if found is None:
        raise InvalidRequest(
            f"--out {path}: name a .csv or .parquet file, or give --format csv|parquet"
        )
    return found


def _table(title: str, headers: tuple[str, ...], rows: list[list[str | Text]]) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("deal", min_width=12)
    for header in headers:
        table.add_column(header, justify="right", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    return table


def _name(deal: DealStats) -> Text:
    return Text(deal.bandit_name if deal.active else f"{deal.bandit_name} (inactive)")


def _row(deal: DealStats) -> list[str | Text]:
    return [
        str(deal.bandit_id),
        _name(deal),
        f"{deal.impressions:,}",
        f"{deal.clicks:,}",
        f"{deal.ctr:.2%}",
        f"{deal.posterior_mean:.1%}",
        f"{deal.ci_low:.1%}-{deal.ci_high:.1%}",
        "-" if deal.prob_best is None else f"{deal.prob_best:.1%}",
        "-" if deal.expected_loss is None else f"{deal.expected_loss:.2%}",
        f"{deal.share_last_24h:.0%}",
    ]


def _recent_title(half_life: float) -> str:
    return f"{recent_label(half_life).lower()}: what rank samples from"


def _recent_row(deal: DealStats) -> list[str | Text]:
    low, high = deal.ci_low_recent, deal.ci_high_recent
    shown, clicked = deal.recent_impressions, deal.recent_clicks
    return [
        str(deal.bandit_id),
        _name(deal),
        "-" if shown is None else f"{shown:,.1f}",
        "-" if clicked is None else f"{clicked:,.1f}",
        "-" if deal.recent_ctr is None else f"{deal.recent_ctr:.2%}",
        "-" if low is None or high is None else f"{low:.1%}-{high:.1%}",
    ]


def _corrected_row(deal: DealStats) -> list[str | Text]:
    low, high = deal.ci_low_corrected, deal.ci_high_corrected
    return [
        str(deal.bandit_id),
        _name(deal),
        "-" if deal.ctr_corrected is None else f"{deal.ctr_corrected:.2%}",
        "-" if low is None or high is None else f"{low:.1%}-{high:.1%}",
    ]


def _purchases_title(currency: str) -> str:
    return f"purchases, values in {currency}: conversion, revenue per impression (posterior median)"


def _purchase_row(deal: DealStats) -> list[str | Text]:
    figures = deal.purchase
    cells: list[str | Text] = [
        str(deal.bandit_id),
        _name(deal),
        f"{deal.purchases:,}",
        f"{deal.purchase_value:,.2f}",
    ]
    if figures is None:
        return [*cells, *("-" for _ in _PURCHASES[2:])]
    return [
        *cells,
        f"{figures.conversion:.2%}",
        f"{figures.ci_low_conversion:.1%}-{figures.ci_high_conversion:.1%}",
        _money(figures.revenue_per_impression),
        _money_interval(
            figures.ci_low_revenue_per_impression, figures.ci_high_revenue_per_impression
        ),
    ]


def _money(value: float) -> str:
    """A revenue per impression: four decimals, as on the dashboard."""
    return f"{value:,.4f}"


def _money_interval(low: float, high: float) -> str:
    return f"{low:,.4f}-{high:,.4f}"
