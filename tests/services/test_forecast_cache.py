"""The forecast cache: the first forecast on the request, later ones refreshed aside while the
stale one answers, one refresh per campaign at a time. Time and threads are injected."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from hotdeals.bandit.forecast import Forecast
from hotdeals.services.forecast_cache import ForecastCache

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def forecast(median: float) -> Forecast:
    return Forecast(median=median, p90=None, decided_share=1.0, horizon=100, paths=8)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_stale_forecast_answers_while_a_new_one_is_computed_aside() -> None:
    clock = Clock()
    queued: list[Callable[[], None]] = []
    cache = ForecastCache(ttl_s=300, clock=clock, spawn=queued.append)
    made: list[float] = []

    def compute(median: float) -> Callable[[], Forecast]:
        def run() -> Forecast:
            made.append(median)
            return forecast(median)

        return run

    first, at = cache.get(7, NOW, compute(1.0))
    assert (first.median, at, made) == (1.0, NOW, [1.0])  # the first: on the request
    assert cache.get(7, NOW, compute(2.0))[0].median == 1.0  # fresh: cached
    assert made == [1.0]
    assert queued == []

    clock.now = 301.0
    later = datetime(2026, 12, 1, 0, 5, 1, tzinfo=UTC)
    stale, stale_at = cache.get(7, later, compute(2.0))
    assert (stale.median, stale_at) == (1.0, NOW)  # answered at once, from the old one
    assert len(queued) == 1  # its successor is queued, not computed here
    assert made == [1.0]
    cache.get(7, later, compute(3.0))
    assert len(queued) == 1  # one refresh per campaign at a time

    queued.pop()()
    assert made == [1.0, 2.0]
    fresh, fresh_at = cache.get(7, later, compute(4.0))
    assert (fresh.median, fresh_at) == (2.0, later)


def test_a_failed_refresh_is_tried_again_at_the_next_request() -> None:
    clock = Clock()
    queued: list[Callable[[], None]] = []
    cache = ForecastCache(ttl_s=300, clock=clock, spawn=queued.append)
    cache.get(1, NOW, lambda: forecast(1.0))
    clock.now = 400.0

    def broken() -> Forecast:
        raise RuntimeError("simulation failed")

    cache.get(1, NOW, broken)
    queued.pop()()  # logged, not raised: a thread has no caller
    assert cache.get(1, NOW, lambda: forecast(5.0))[0].median == 1.0  # still the old one
    queued.pop()()
    assert cache.get(1, NOW, lambda: forecast(6.0))[0].median == 5.0
