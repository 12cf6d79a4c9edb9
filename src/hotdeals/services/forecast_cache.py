"""The decision panel's forecasts, cached per process and campaign, refreshed in the background.

A forecast simulates thousands of future impressions (0.1-0.5 s at 1,000 deals): each campaign's
is kept :data:`FORECAST_TTL_S` seconds, then served while a new one is computed aside, so a
dashboard refresh never waits for one but the campaign's first (:class:`ForecastCache`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from hotdeals.bandit.forecast import Forecast

__all__ = ["FORECAST_TTL_S", "ForecastCache"]

log = logging.getLogger("hotdeals.forecasts")

# A forecast is recomputed at most this often per campaign and process (it is a simulation of
# thousands of future impressions, ~0.1-0.5 s); the panel says when it was computed.
FORECAST_TTL_S = 300.0


class ForecastCache:
    """Per-process forecasts by campaign, each fresh for :data:`FORECAST_TTL_S` seconds.

    Past that, the old forecast answers at once while a new one is computed in the background
    (one per campaign at a time): a simulation of a campaign of many deals takes longer than a
    dashboard refresh may (0.1-0.5 s at 1,000 deals), and the panel says when it was computed.
    Only a campaign's first forecast in a process is computed on the request. ``spawn`` starts
    a background computation (a daemon thread; tests run it inline).
    """

    def __init__(
        self,
        ttl_s: float = FORECAST_TTL_S,
        clock: Callable[[], float] = time.monotonic,
        spawn: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self.spawn = spawn or _in_thread
        self._entries: dict[int, tuple[float, datetime, Forecast]] = {}
        self._refreshing: set[int] = set()
        self._lock = threading.Lock()

    def get(
        self, project_id: int, now: datetime, compute: Callable[[], Forecast]
    ) -> tuple[Forecast, datetime]:
        """The cached forecast and when it was computed (refreshed in the background once
        stale), or the first one, computed now."""
        with self._lock:
            entry = self._entries.get(project_id)
            stale = entry is not None and self.clock() - entry[0] > self.ttl_s
            start = stale and project_id not in self._refreshing
            if start:
                self._refreshing.add(project_id)
        if entry is None:
            forecast = compute()
            self._store(project_id, now, forecast)
            return forecast, now
        if start:
            self.spawn(lambda: self._refresh(project_id, now, compute))
        return entry[2], entry[1]

    def _store(self, project_id: int, now: datetime, forecast: Forecast) -> None:
        with self._lock:
            self._entries[project_id] = (self.clock(), now, forecast)

    def _refresh(self, project_id: int, now: datetime, compute: Callable[[], Forecast]) -> None:
        """Compute and keep a new forecast; on failure keep the old one, logged, and let the
        next request try again."""
        try:
            self._store(project_id, now, compute())
        except Exception:  # a background thread has no caller to raise to
            log.exception("forecast of campaign %d failed; the previous one stays", project_id)
        finally:
            with self._lock:
                self._refreshing.discard(project_id)


def _in_thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="hotdeals-forecast", daemon=True).start()
