"""Which deals a campaign's charts draw: all of a few, the busiest of many.

A chart of a thousand lines says nothing and weighs megabytes at every refresh (a thousand deals
times the hours of a month, five series each). Past ``MAX_CHARTED`` deals the charts draw the
deals with the most impressions; the table still lists every deal, and the page says how many
the charts show.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from hotdeals.services.analytics import ProjectStats

__all__ = ["MAX_CHARTED", "charted"]

MAX_CHARTED: Final = 12


def charted(stats: ProjectStats, limit: int = MAX_CHARTED) -> ProjectStats:
    """The statistics of the deals to chart: every deal up to ``limit``, else the ``limit``
    with the most impressions (the lower id first on a tie), in the order of ``stats``."""
    if len(stats.bandits) <= limit:
        return stats
    busiest = sorted(stats.bandits, key=lambda d: (-d.impressions, d.bandit_id))[:limit]
    ids = {deal.bandit_id for deal in busiest}
    kept = [deal for deal in stats.bandits if deal.bandit_id in ids]
    return dataclasses.replace(stats, bandits=kept)
