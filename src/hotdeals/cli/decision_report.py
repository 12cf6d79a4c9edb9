"""``hotdeals stats``'s decision panel: the verdict, each condition of the winner rule, the
forecast, the uplift and what the strip shows, worded as on the dashboard.

The sentences are the dashboard's own (:mod:`hotdeals.web.decision_panel`), so the terminal
and the browser never word a figure differently; this module only lays them out as lines.
"""

from __future__ import annotations

from rich.markup import escape

from hotdeals.cli.common import out
from hotdeals.services.analytics import ProjectStats
from hotdeals.web.decision_panel import panel

__all__ = ["print_decision"]

MET = "[green]met[/green]    "
MISSING = "[yellow]missing[/yellow]"


def print_decision(stats: ProjectStats) -> None:
    """The panel as indented lines under a ``decision:`` heading (nothing without deals)."""
    shown = panel(stats)
    if shown is None:
        return
    out.print(f"decision: {escape(shown.summary)}", highlight=False)
    out.print(f"  state:        {shown.state_label}", highlight=False)
    out.print(f"  strip shows:  {escape(shown.showing)}", highlight=False)
    for row in shown.conditions:
        mark = MET if row.met else MISSING
        out.print(
            f"  {mark}  {escape(row.label)}: {row.value} (needed {row.needed})", highlight=False
        )
    out.print(f"  forecast:     {escape(shown.forecast)}", highlight=False)
    out.print(f"  uplift:       {escape(shown.uplift)}", highlight=False)
    out.print(f"  slots:        {escape(shown.examination)}", highlight=False)
