"""Printing a table of figures so that a pipe or a file gets it whole.

Rich lays out for 80 columns when standard output is not a terminal, which squeezes a wide
table of figures into truncated cells; a report redirected to a file should read like the one
on screen, so it gets a wider page there.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from hotdeals.cli.common import out

PIPE_WIDTH = 120


def print_table(table: Table) -> None:
    """On a terminal, at its width; elsewhere at :data:`PIPE_WIDTH` columns."""
    (out if out.is_terminal else Console(width=PIPE_WIDTH, soft_wrap=True)).print(table)
