"""A wall clock the test sets: schedules and durations are read against it, so a test moves
time past a window's edge instead of waiting for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


@dataclass
class WallClock:
    """Starts at the real time (rows the app stamps itself, such as ``created_at``, agree)."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by

    def iso(self, offset: timedelta = timedelta(0)) -> str:
        """``now + offset`` as the API takes it."""
        return (self.now + offset).isoformat()
