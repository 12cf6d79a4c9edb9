"""What ``/stats`` and the dashboard keep between requests, per process.

All are safe to share by every request of a process: the forecasts are stale by a bounded,
displayed age (:mod:`.forecast_cache`), the purchase figures a pure function of what they are
keyed by (:mod:`.purchase_stats`), and the slot fit redone on the current counters from the last
one (:mod:`.slot_effects`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hotdeals.services.forecast_cache import ForecastCache
from hotdeals.services.purchase_stats import PurchaseFigureCache
from hotdeals.services.slot_effects import WarmFits

__all__ = ["StatsCaches"]


@dataclass(frozen=True, slots=True)
class StatsCaches:
    """One process's caches for the campaigns' figures (tests and the CLI make fresh ones)."""

    forecasts: ForecastCache = field(default_factory=ForecastCache)
    purchases: PurchaseFigureCache = field(default_factory=PurchaseFigureCache)
    fits: WarmFits = field(default_factory=WarmFits)
