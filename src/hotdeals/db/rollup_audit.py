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

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from hotdeals.db.log_totals import HourTotals, LogTotals
from hotdeals.db.models import Bandit
from hotdeals.db.service_tables import DealHour

__all__ = ["ROLLUP_COLUMNS", "hour_mismatches", "repair_hours"]

ROLLUP_COLUMNS: Final = ("impressions", "clicks", "purchases", "purchase_value")

HourKey = tuple[int, datetime]


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
) -> list[tuple[HourKey, HourTotals, HourTotals]]:
    """``(key, stored, expected)`` of every deal-hour whose row disagrees with the log."""
    have = _stored(session, project_ids)
    empty = HourTotals()
    return [
        (key, have.get(key, empty), totals.hours.get(key, empty))
        for key in sorted(set(have) | set(totals.hours))
        if have.get(key, empty) != totals.hours.get(key, empty)
    ]


def hour_mismatches(
    session: Session, project_ids: Sequence[int] | None, totals: LogTotals
) -> list[tuple[int, datetime, str, float, float]]:
    """``(bandit_id, hour, column, stored, expected)`` for each wrong rollup figure."""
    return [
        (key[0], key[1], column, float(getattr(stored, column)), float(getattr(want, column)))
        for key, stored, want in _wrong(session, project_ids, totals)
        for column in ROLLUP_COLUMNS
        if getattr(stored, column) != getattr(want, column)
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
    for (bandit_id, hour), _, want in wrong:
        session.execute(
            delete(DealHour).where(DealHour.bandit_id == bandit_id, DealHour.hour == hour)
        )
        if want != HourTotals():
            session.execute(
                insert(DealHour).values(
                    bandit_id=bandit_id,
                    hour=hour,
                    project_id=projects[bandit_id],
                    impressions=want.impressions,
                    clicks=want.clicks,
                    purchases=want.purchases,
                    purchase_value=want.purchase_value,
                )
            )
    return len(wrong)
