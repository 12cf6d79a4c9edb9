"""The ``hotdeals`` command. Each command parses its options and calls one function below it.

Errors of the :class:`~hotdeals.errors.HotDealsError` family are printed as one line on standard
error with exit code 2, never as a traceback.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Callable
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console

from hotdeals import __version__
from hotdeals.config import get_settings
from hotdeals.db.counters import find_mismatches, repair_counters
from hotdeals.db.engine import check_connection, make_engine, make_session_factory, session_scope
from hotdeals.db.migrate import upgrade_to_head
from hotdeals.errors import HotDealsError

app = typer.Typer(
    help="Supermarket Hot Deals: rank a shop's deals with multi-armed bandits.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn our own errors into one red line and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except HotDealsError as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(2) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        out.print(f"hotdeals {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Supermarket Hot Deals: rank a shop's deals with multi-armed bandits.

    Every command reads DATABASE_URL from the environment or a .env file (default: SQLite file
    hotdeals.db in the working directory).
    """


@app.command("init-db")
@reports_errors
def init_db() -> None:
    """Create or upgrade the schema of the configured database (safe to run again).

    Example: DATABASE_URL=postgresql://postgres@127.0.0.1:5432/hotdeals hotdeals init-db
    """
    engine = make_engine(get_settings().database_url)
    try:
        check_connection(engine)
        upgrade_to_head(engine)
    finally:
        engine.dispose()
    out.print(f"database ready: {engine.url.render_as_string(hide_password=True)}")


@app.command("db-check")
@reports_errors
def db_check(
    repair: Annotated[
        bool, typer.Option("--repair", help="Rebuild wrong counters from the transactions log.")
    ] = False,
) -> None:
    """Check every counter against the transactions log; exit 1 on any mismatch.

    Example: hotdeals db-check --repair
    """
    engine = make_engine(get_settings().database_url)
    sessions = make_session_factory(engine)
    try:
        check_connection(engine)
        with session_scope(sessions) as session:
            mismatches = find_mismatches(session)
            if mismatches and repair:
                changed = repair_counters(session)
                out.print(f"repaired {changed} row(s) from the transactions log")
                mismatches = find_mismatches(session)
    finally:
        engine.dispose()
    if mismatches:
        for mismatch in mismatches:
            err.print(f"MISMATCH {mismatch}", highlight=False)
        raise typer.Exit(1)
    out.print("OK: every counter matches the transactions log")


@app.command()
@reports_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Serve the API and the pages (run init-db first).

    Example: hotdeals serve --host 0.0.0.0 --port 8000 --workers 2
    """
    import uvicorn

    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        check_connection(engine)
    finally:
        engine.dispose()
    if settings.hotdeals_admin_token is None:
        token = secrets.token_urlsafe(24)
        os.environ["HOTDEALS_ADMIN_TOKEN"] = token  # inherited by the worker processes
        get_settings.cache_clear()
        out.print(f"admin token (generated, set HOTDEALS_ADMIN_TOKEN to keep one): {token}")
    out.print(f"serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(
        "hotdeals.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )
