"""Times on the dashboard: read from a form as UTC, written back in UTC, and what a window means.

A browser's ``datetime-local`` input has no zone, and guessing the analyst's zone from the
browser would make the same form mean two instants on two laptops. So the forms say "UTC" next
to every time field and read what they get as UTC (an explicit offset, sent by a script, is
kept); the pages print every time in UTC too, so what was typed is what is shown.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hotdeals.services.schedules import in_window

__all__ = [
    "ZONE",
    "deal_state",
    "input_value",
    "parse_moment",
    "stamp",
    "window_text",
]

ZONE = "UTC"
EXAMPLE = "2026-12-07 00:00"


def parse_moment(text: str) -> datetime | None:
    """An aware datetime from a form field (empty: None); a time without a zone is UTC.

    Raises :class:`ValueError` when ``text`` is not an ISO 8601 date and time (a date alone
    is midnight, as ``datetime.fromisoformat`` reads it).
    """
    text = text.strip()
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def input_value(moment: datetime | None) -> str:
    """The value of a ``datetime-local`` input showing ``moment`` in UTC ("" for none)."""
    if moment is None:
        return ""
    # isoformat, not strftime: "%Y" does not pad a year below 1000, which the input refuses.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="minutes")


def stamp(moment: datetime | None) -> str:
    """``2026-12-07 00:00 UTC``, or "" for none."""
    return input_value(moment).replace("T", " ") + f" {ZONE}" if moment else ""


def window_text(starts_at: datetime | None, ends_at: datetime | None) -> str:
    """A half-open window in words: "always", "from ...", "until ..." or "... to ..."."""
    if starts_at is None and ends_at is None:
        return "always"
    if ends_at is None:
        return f"from {stamp(starts_at)}"
    if starts_at is None:
        return f"until {stamp(ends_at)}"
    return f"{stamp(starts_at)[:-4]} to {stamp(ends_at)}"


def deal_state(
    active: bool, starts_at: datetime | None, ends_at: datetime | None, now: datetime
) -> str:
    """What rank does with a deal now: ``inactive`` (switched off), ``scheduled`` (its window
    has not opened), ``expired`` (it has closed) or ``active``."""
    if not active:
        return "inactive"
    if in_window(starts_at, ends_at, now):
        return "active"
    return "scheduled" if starts_at is not None and now < starts_at else "expired"
