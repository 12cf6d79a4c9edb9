"""What every command shares: the consoles, the error reporting and the database at hand."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.config import get_settings
from hotdeals.db.engine import Timeouts, check_connection, make_engine, make_session_factory
from hotdeals.db.migrate import require_schema_at_head
from hotdeals.errors import HotDealsError

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn our own errors into one red line on standard error and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except HotDealsError as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(2) from None

    return wrapper


@contextmanager
def database(*, schema: bool = True) -> Iterator[tuple[Engine, sessionmaker[Session]]]:
    """The configured database, checked reachable and migrated, disposed of on exit.

    With ``schema=False`` (``init-db`` and ``demo``, which create the schema) the database need
    not be migrated yet, and a SQLite file is created when missing. Otherwise a database
    without the current schema is :class:`~hotdeals.errors.SchemaMissing` (exit code 2, one
    line saying to run ``hotdeals init-db``), and a missing SQLite file is never created.
    Commands are analyst jobs: lock and connect timeouts hold, the statement timeout does not.
    """
    settings = get_settings()
    engine = make_engine(settings.database_url, timeouts=Timeouts.of(settings).for_analysts())
    try:
        if schema:
            require_schema_at_head(engine)  # reports an unreachable database too
        else:
            check_connection(engine)
        yield engine, make_session_factory(engine)
    finally:
        engine.dispose()
