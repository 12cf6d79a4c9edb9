"""The ``hotdeals`` command. Each command parses its options and calls the services.

Commands live in small modules by theme; each module's ``register`` adds its commands here.
Errors of the :class:`~hotdeals.errors.HotDealsError` family are printed as one line on standard
error with exit code 2, never as a traceback.
"""

from __future__ import annotations

from typing import Annotated

import typer

from hotdeals import __version__
from hotdeals.cli import analyst, database, demo, server
from hotdeals.cli.common import out

app = typer.Typer(
    help="Supermarket Hot Deals: rank a shop's deals with multi-armed bandits.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


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


for module in (database, server, demo, analyst):
    module.register(app)

__all__ = ["app"]
