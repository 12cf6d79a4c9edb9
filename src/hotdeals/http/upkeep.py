"""What a server does in the background besides answering: the log's partitions, hourly.

Each server keeps the partitioned log's ranges made ahead of its ids
(:func:`hotdeals.services.partitions.keep_partitions_ahead`): at start, then every
``EVERY_S`` seconds, in a worker thread so that the event loop never waits on it. A failure is
logged and tried again at the next round: ranges are made two months of traffic ahead.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from starlette.concurrency import run_in_threadpool

from hotdeals.http.state import AppState
from hotdeals.services.partitions import keep_partitions_ahead

__all__ = ["EVERY_S", "keep_partitions"]

EVERY_S: Final = 3600.0
log = logging.getLogger("hotdeals.upkeep")


async def keep_partitions(state: AppState, every_s: float = EVERY_S) -> None:
    """Run until cancelled (the app's shutdown)."""
    while True:
        try:
            created = await run_in_threadpool(keep_partitions_ahead, state.engine)
            if created:
                log.info("partitions created: %s", ", ".join(created))
        except Exception:  # a database down now is no reason to stop trying
            log.exception("could not keep the log's partitions ahead; retrying in %.0f s", every_s)
        await asyncio.sleep(every_s)
