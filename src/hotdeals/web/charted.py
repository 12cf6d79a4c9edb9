"""Which deals a campaign's charts draw: all of a few, the busiest of many.

A chart of a thousand lines says nothing and weighs megabytes at every refresh (a thousand deals
times the hours of a month, five series each). Past ``MAX_CHARTED`` deals the charts draw the
deals with the most impressions; the table still lists every deal, and the page says how many
the charts show.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Final

from hotdeals.db.models import Bandit
from hotdeals.services.analytics import ProjectStats

__all__ = ["MAX_CHARTED", "charted"]

MAX_CHARTED: Final = 12


def charted(
    stats: ProjectStats, bandits: Sequence[Bandit], limit: int = MAX_CHARTED
) -> tuple[ProjectStats, list[Bandit]]:
    """The statistics and deals to chart: every deal up to ``limit``, else the ``limit`` with
    the most impressions (the lower id first on a tie)."""
    if len(bandits) <= limit:
        return stats, list(bandits)
    busiest = sorted(bandits, key=lambda b: (-b.n, b.bandit_id))[:limit]
    ids = {b.bandit_id for b in busiest}
    kept = [deal for deal in stats.bandits if deal.bandit_id in ids]
    return dataclasses.replace(stats, bandits=kept), [b for b in bandits if b.bandit_id in ids]
