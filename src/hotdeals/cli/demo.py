"""``hotdeals demo``: a live demo campaign on the configured database, then serve (issue 5)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
