"""Analyst tools: simulate, replay, export, stats and scripting of campaigns (issue 5)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
