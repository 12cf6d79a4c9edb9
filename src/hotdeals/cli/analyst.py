"""Analyst tools: simulate, replay, export, stats and scripting of campaigns.

The commands live in small modules by task; this one only puts them on the ``hotdeals`` app,
in the order ``hotdeals --help`` lists them.
"""

from __future__ import annotations

import typer

from hotdeals.cli.campaigns import add_deal, create_project, end_project
from hotdeals.cli.replay import replay_command
from hotdeals.cli.reports import export, stats
from hotdeals.cli.simulation import simulate_command


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("simulate")(simulate_command)
    app.command("replay")(replay_command)
    app.command("stats")(stats)
    app.command("export")(export)
    app.command("create-project")(create_project)
    app.command("add-deal")(add_deal)
    app.command("end-project")(end_project)
