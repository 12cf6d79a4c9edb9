"""The hour rollups (``deal_hours``) against the log's totals: their check and their rebuild.

Every deal-hour the log has must have its row with the log's impressions, first clicks,
purchases and value, and a row the log does not have must hold zeros (none is written for an
hour without impressions, so such a row is itself a mismatch). :mod:`hotdeals.db.audit` reports
them beside the other counters.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Final

from sqlalchemy import delete, insert, select, tuple_, update
from sqlalchemy.orm import Session

from hotdeals.db.log_totals import HourTotals, LogTotals
from hotdeals.db.models import Bandit
from hotdeals.db.service_tables import DealHour

__all__ = ["KEYS_PER_STATEMENT", "ROLLUP_COLUMNS", "hour_mismatches", "repair_hours"]

ROLLUP_COLUMNS: Final = ("impressions", "clicks", "purchases", "purchase_value")

HourKey = tuple[int, datetime]
# Rows deleted per statement by a repair (two parameters each, well inside every driver's
# limit): a thousand deals' month of hours is 720,000 rows, which took hours one at a time.
KEYS_PER_STATEMENT: Final = 1_000


def _stored(session: Session, project_ids: Sequence[int] | None) -> dict[HourKey, HourTotals]:
    query = select(
        DealHour.bandit_id,
        DealHour.hour,
        DealHour.impressions,
        DealHour.clicks,
        DealHour.purchases,
        DealHour.purchase_value,
    )
    if project_ids is not None:
        query = query.where(DealHour.project_id.in_(project_ids))
    return {
        (b, hour): HourTotals(int(n), int(c), int(p), Decimal(v))
        for b, hour, n, c, p, v in session.execute(query)
    }


def _wrong(
    session: Session, project_ids: Sequence[int] | None, totals: LogTotals
) -> list[tuple[HourKey, HourTotals | None, HourTotals]]:
    """``(key, stored, expected)`` of every deal-hour whose row disagrees with the log; stored
    is None where there is no row (zeros)."""
    have = _stored(session, project_ids)
    empty = HourTotals()
    return [
        (key, have.get(key), totals.hours.get(key, empty))
        for key in sorted(set(have) | set(totals.hours))
        if have.get(key, empty) != totals.hours.get(key, empty)
    ]


def hour_mismatches(
    session: Session, project_ids: Sequence[int] | None, totals: LogTotals
) -> list[tuple[int, datetime, str, float, float]]:
    """``(bandit_id, hour, column, stored, expected)`` for each wrong rollup figure."""
    return [
        (key[0], key[1], column, float(getattr(kept, column)), float(getattr(want, column)))
        for key, stored, want in _wrong(session, project_ids, totals)
        for kept in [stored or HourTotals()]
        for column in ROLLUP_COLUMNS
        if getattr(kept, column) != getattr(want, column)
    ]


def repair_hours(session: Session, project_ids: Sequence[int] | None, totals: LogTotals) -> int:
    """Rewrite every deal-hour row that disagrees with the log; return how many changed."""
    wrong = _wrong(session, project_ids, totals)
    if not wrong:
        return 0
    projects = dict(
        session.execute(
            select(Bandit.bandit_id, Bandit.project_id).where(
                Bandit.bandit_id.in_({key[0] for key, _, _ in wrong})
            )
        ).all()
    )
    gone: list[HourKey] = []  # rows the log has nothing for
    rewritten: list[dict[str, object]] = []
    added: list[dict[str, object]] = []
    for (bandit_id, hour), stored, want in wrong:
        if want == HourTotals():
            gone.append((bandit_id, hour))
            continue
        row = {
            "bandit_id": bandit_id,
            "hour": hour,
            "project_id": projects[bandit_id],
            "impressions": want.impressions,
            "clicks": want.clicks,
            "purchases": want.purchases,
            "purchase_value": want.purchase_value,
        }
        (added if stored is None else rewritten).append(row)
    keys = tuple_(DealHour.bandit_id, DealHour.hour)
    for start in range(0, len(gone), KEYS_PER_STATEMENT):
        session.execute(delete(DealHour).where(keys.in_(gone[start : start + KEYS_PER_STATEMENT])))
    # One batched statement each (executemany): rows by primary key, then the missing ones.
    if rewritten:
        session.execute(update(DealHour), rewritten)
    if added:
        session.execute(insert(DealHour), added)
    return len(wrong)
