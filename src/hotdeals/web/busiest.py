"""Which deals a campaign's page draws and lists: all of a few, the busiest of many.

A chart of a thousand lines says nothing and weighs megabytes at every refresh (a thousand deals
times the hours of a month, five series each), and a table of a thousand rows is as long to
read as it is to render and to refresh every few seconds. Past ``MAX_CHARTED`` deals the charts
draw the deals with the most impressions, and past ``MAX_LISTED`` the table and the deals'
controls list the busiest ones (the contenders, under Thompson sampling); the page says so and
links to the list of every deal (``?deals=all``).
"""

from __future__ import annotations

import dataclasses
from typing import Final

from hotdeals.services.analytics import ProjectStats

__all__ = ["MAX_CHARTED", "MAX_LISTED", "busiest", "listed"]

MAX_CHARTED: Final = 12
MAX_LISTED: Final = 100


def busiest(stats: ProjectStats, limit: int) -> ProjectStats:
    """The statistics of every deal up to ``limit``, else of the ``limit`` with the most
    impressions (the lower id first on a tie), in the order of ``stats``."""
    if len(stats.bandits) <= limit:
        return stats
    top = sorted(stats.bandits, key=lambda d: (-d.impressions, d.bandit_id))[:limit]
    ids = {deal.bandit_id for deal in top}
    kept = [deal for deal in stats.bandits if deal.bandit_id in ids]
    return dataclasses.replace(stats, bandits=kept)


def listed(stats: ProjectStats, every: bool) -> ProjectStats:
    """The deals the page's table lists: all when asked (``every``), else the busiest
    :data:`MAX_LISTED` (read at call time, so a test may lower it)."""
    return stats if every else busiest(stats, MAX_LISTED)
