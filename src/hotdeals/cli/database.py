"""Schema and consistency: ``init-db``, ``db-check`` and ``db-retain``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from hotdeals.cli.common import database, err, out, reports_errors
from hotdeals.db.audit import find_mismatches, repair_counters, scan_log
from hotdeals.db.engine import session_scope
from hotdeals.db.migrate import upgrade_to_head
from hotdeals.db.types import utcnow
from hotdeals.services.partitions import keep_partitions_ahead
from hotdeals.services.retention import retain


def register(app: typer.Typer) -> None:
    app.command("init-db")(init_db)
    app.command("db-check")(db_check)
    app.command("db-retain")(db_retain)


@reports_errors
def init_db() -> None:
    """Create or upgrade the schema of the configured database (safe to run again); on
    PostgreSQL also make the log's partitions ahead of its ids.

    Example: DATABASE_URL=postgresql://postgres@127.0.0.1:5432/hotdeals hotdeals init-db
    """
    with database(schema=False) as (engine, _):
        upgrade_to_head(engine)
        for table in keep_partitions_ahead(engine):
            out.print(f"partition created: {table}")
        out.print(f"database ready: {engine.url.render_as_string(hide_password=True)}")


@reports_errors
def db_check(
    repair: Annotated[
        bool, typer.Option("--repair", help="Rebuild wrong counters from the transactions log.")
    ] = False,
) -> None:
    """Check every counter against the transactions log; exit 1 on any mismatch.

    Example: hotdeals db-check --repair
    """
    with database() as (_, sessions), session_scope(sessions) as session:
        totals = scan_log(session)  # the log is read once, for the check and the repair
        mismatches = find_mismatches(session, totals=totals)
        if mismatches and repair:
            changed = repair_counters(session, totals=totals)
            out.print(f"repaired {changed} row(s) from the transactions log")
            mismatches = find_mismatches(session, totals=totals)
    if mismatches:
        for mismatch in mismatches:
            err.print(f"MISMATCH {mismatch}", highlight=False)
        raise typer.Exit(1)
    out.print("OK: every counter matches the transactions log")


@reports_errors
def db_retain(
    older_than_days: Annotated[
        int, typer.Option("--older-than-days", min=1, help="Keep this many days of the log.")
    ],
    export_dir: Annotated[
        Path | None,
        typer.Option("--export-dir", help="Write each partition's rows here (CSV, gzip) first."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would go; change nothing.")
    ] = False,
) -> None:
    """Archive and drop the log's partitions older than the limit (PostgreSQL; SQLite keeps
    every row). Counters, rollups and db-check are unchanged: archived + retained = counters.

    Example: hotdeals db-retain --older-than-days 400 --export-dir /backups/hotdeals
    """
    with database() as (engine, _):
        if engine.dialect.name != "postgresql":
            out.print("nothing to do: SQLite keeps the whole log (retention is PostgreSQL's)")
            return
        done = retain(
            engine, timedelta(days=older_than_days), utcnow(), export_to=export_dir, dry_run=dry_run
        )
    for item in done:
        c = item.candidate
        verb = "dropped" if item.dropped else ("would drop" if dry_run and c.ready else "kept")
        where = f", rows in {item.exported_to}" if item.exported_to else ""
        out.print(f"{verb} {c.partition.table}: {c.rows:,} rows, {c.reason}{where}")
    if not done:
        out.print("no closed partition yet")
