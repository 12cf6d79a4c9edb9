"""``hotdeals serve``: the API and the pages under a production server."""

from __future__ import annotations

import os
import secrets
from typing import Annotated

import typer

from hotdeals.cli.common import database, out, reports_errors
from hotdeals.config import get_settings


def register(app: typer.Typer) -> None:
    app.command()(serve)


def ensure_admin_token() -> None:
    """Generate a token when none is configured, print it once, and hand it to the workers."""
    if get_settings().hotdeals_admin_token is not None:
        return
    token = secrets.token_urlsafe(24)
    os.environ["HOTDEALS_ADMIN_TOKEN"] = token  # inherited by the worker processes
    get_settings.cache_clear()
    out.print(f"admin token (generated; set HOTDEALS_ADMIN_TOKEN to keep one): {token}")


@reports_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Serve the API and the pages (run init-db first).

    Example: hotdeals serve --host 0.0.0.0 --port 8000 --workers 2
    """
    import uvicorn

    with database():
        pass  # fail fast, with one line, when the database is unreachable
    ensure_admin_token()
    out.print(f"serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(
        "hotdeals.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )
