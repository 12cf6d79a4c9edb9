"""What a server does in the background besides answering: the log's partitions, hourly.

Each server keeps the partitioned log's ranges made ahead of its ids
(:func:`hotdeals.services.partitions.keep_partitions_ahead`): at start, then every
``EVERY_S`` seconds, in a worker thread so that the event loop never waits on it. A failure is
logged and tried again at the next round: ranges are made two months of traffic ahead. Shutdown
waits for a round under way (bounded by the statement timeout), so no connection is left open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

from starlette.concurrency import run_in_threadpool

from hotdeals.http.state import AppState
from hotdeals.services.partitions import keep_partitions_ahead

__all__ = ["EVERY_S", "Upkeep"]

EVERY_S: Final = 3600.0
log = logging.getLogger("hotdeals.upkeep")


class Upkeep:
    """The background rounds of one app: :meth:`start` with the app, :meth:`stop` at its end."""

    def __init__(self, state: AppState, every_s: float = EVERY_S) -> None:
        self.state = state
        self.every_s = every_s
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                created = await run_in_threadpool(keep_partitions_ahead, self.state.engine)
                if created:
                    log.info("partitions created: %s", ", ".join(created))
            except Exception:  # a database down now is no reason to stop trying
                log.exception(
                    "could not keep the log's partitions ahead; next round in %.0f s", self.every_s
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.every_s)
