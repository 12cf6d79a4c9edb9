"""What a server does in the background besides answering: the log's partitions, hourly.

Each server keeps the partitioned log's ranges made ahead of its ids
(:func:`hotdeals.services.partitions.keep_partitions_ahead`) and, with ``HOTDEALS_RETAIN_DAYS``,
retires the ranges older than that (:func:`hotdeals.services.retention.retain`, as ``hotdeals
db-retain`` does; servers doing it together take each range once): at start, then every
``EVERY_S`` seconds, in a worker thread so that the event loop never waits on it. A failure is
logged and tried again at the next round: ranges are made two months of traffic ahead. Shutdown
waits for a round under way (a retention round exports and drops whole ranges: minutes at 10M
rows), so no connection is left open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from pathlib import Path
from typing import Final

from starlette.concurrency import run_in_threadpool

from hotdeals.http.state import AppState
from hotdeals.services.partitions import keep_partitions_ahead
from hotdeals.services.retention import retain

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
                await run_in_threadpool(self._retain)
            except Exception:  # a database down now is no reason to stop trying
                log.exception(
                    "could not keep the log's partitions; next round in %.0f s", self.every_s
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.every_s)

    def _retain(self) -> None:
        """The retention the settings ask for, if any; each range retired is logged."""
        settings = self.state.settings
        if settings.hotdeals_retain_days is None:
            return
        export = settings.hotdeals_retain_export_dir
        for done in retain(
            self.state.engine,
            timedelta(days=settings.hotdeals_retain_days),
            self.state.clock(),
            export_to=Path(export) if export else None,
        ):
            if done.dropped:
                where = f", exported to {done.exported_to}" if done.exported_to else ""
                log.info(
                    "retention: %s archived and dropped (%d rows%s)",
                    done.candidate.partition.table,
                    done.candidate.rows,
                    where,
                )
