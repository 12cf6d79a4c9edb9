"""``hotdeals stats`` and ``hotdeals export``: a campaign's figures and its raw log, offline.

The same statistics as the dashboard (``services.analytics.project_stats``), so a terminal and
the browser never disagree; the export streams the log in batches, so it works on any size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich import box
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from hotdeals.cli.common import database, out, reports_errors
from hotdeals.cli.progress import progress_bar
from hotdeals.cli.tables import print_table
from hotdeals.config import get_settings
from hotdeals.errors import InvalidRequest
from hotdeals.services.analytics import DealStats, project_stats
from hotdeals.services.export import count_transactions, export_csv, export_parquet
from hotdeals.services.projects import get_project

__all__ = ["export", "stats"]

Format = Literal["csv", "parquet"]
_HEADERS = ("impr.", "clicks", "CTR", "mean", "95% interval", "P(best)", "exp. loss", "24h")
_SUFFIX_FORMATS: dict[str, Format] = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


@reports_errors
def stats(
    project_id: Annotated[int, typer.Argument(help="The campaign's project_id.")],
) -> None:
    """Show a campaign's per-deal table, as on the dashboard, and its winner if there is one.

    Example: hotdeals stats 1
    """
    with database() as (_, sessions), sessions.begin() as session:
        project = get_project(session, project_id)
        figures = project_stats(session, project_id, draws=get_settings().hotdeals_stats_draws)
        title = (
            f"project {project.project_id} {escape(repr(project.project_name))}: {project.status}, "
            f"policy {project.policy}, {project.slots} slot(s)"
        )
        rule = (project.min_prob_best, project.min_impressions)
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("deal", min_width=12)
    for header in _HEADERS:
        table.add_column(header, justify="right", no_wrap=True)
    for deal in figures.bandits:
        table.add_row(*_row(deal))
    print_table(table)
    if figures.winner is not None:
        winner = figures.winner
        how = "chosen by the analyst" if winner.chosen else "by the winner rule"
        out.print(
            f"winner: {escape(winner.bandit_name)} (bandit {winner.bandit_id}), "
            f"P(best) = {winner.prob_best:.1%} ({how})",
            highlight=False,
        )
    else:
        out.print(
            f"no winner yet: the rule needs P(best) >= {rule[0]:.0%} and at least {rule[1]:,} "
            "impressions on every active deal",
            highlight=False,
        )


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
    bandit_name, position, clicked, clicked_at (timestamps in UTC).

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


def _row(deal: DealStats) -> list[str | Text]:
    name = deal.bandit_name if deal.active else f"{deal.bandit_name} (inactive)"
    return [
        str(deal.bandit_id),
        Text(name),
        f"{deal.impressions:,}",
        f"{deal.clicks:,}",
        f"{deal.ctr:.2%}",
        f"{deal.posterior_mean:.1%}",
        f"{deal.ci_low:.1%}-{deal.ci_high:.1%}",
        "-" if deal.prob_best is None else f"{deal.prob_best:.1%}",
        "-" if deal.expected_loss is None else f"{deal.expected_loss:.2%}",
        f"{deal.share_last_24h:.0%}",
    ]
