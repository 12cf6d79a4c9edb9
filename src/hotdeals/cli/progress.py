"""Progress bars for the long commands, drawn on standard error.

Standard output stays for results (tables, ids, the ``--json`` line) so that a script can read
it while a person still sees the bar move. When the command fails, the bar is taken away, so
that the error is the one line left on the screen.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from hotdeals.cli.common import err


@contextmanager
def progress_bar() -> Iterator[Progress]:
    """A bar with a count and the elapsed time; add one task per unit of work."""
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    )
    with bar:
        try:
            yield bar
        except BaseException:
            bar.live.transient = True  # erased in a terminal, never printed to a file
            raise
