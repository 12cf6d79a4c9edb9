"""What the transactions log says every counter and rollup must be, from one pass over it.

``db-check`` reads the log once: one aggregate grouped by deal, slot and hour of the impression
gives the deals' counters (summed over slots and hours), the slot counters (over hours) and the
hour rollups (over slots); the purchases come from their own table, joined to their impressions
for the hour. Checking and repairing then compare stored rows with these totals, so
``db-check --repair`` costs one scan of the log, not one per counter and per pass.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, case, func, select, type_coerce
from sqlalchemy.orm import Session

from hotdeals.db.models import Bandit, Transaction
from hotdeals.db.service_tables import ArchivedLog, Purchase
from hotdeals.db.slot_counters import Slot
from hotdeals.db.types import UTCDateTime

__all__ = ["HourTotals", "LogTotals", "impression_hour", "scan_log"]


def impression_hour(dialect: str) -> ColumnElement[datetime]:
    """The impression's UTC hour in SQL, as :func:`hotdeals.db.rollups.hour_of` computes it."""
    if dialect == "postgresql":
        hour = func.date_trunc("hour", Transaction.timestamp, "UTC")
    else:  # the text SQLAlchemy writes for a timestamp, on the hour
        hour = func.strftime("%Y-%m-%d %H:00:00.000000", Transaction.timestamp)
    return type_coerce(hour, UTCDateTime())


@dataclass(slots=True)
class HourTotals:
    """One deal-hour as the log says it must be."""

    impressions: int = 0
    clicks: int = 0
    purchases: int = 0
    purchase_value: Decimal = Decimal(0)


@dataclass(slots=True)
class LogTotals:
    """Per deal, per deal and slot, and per deal and hour: impressions and first clicks (and,
    per hour, purchases and their value). Keys absent from the log are absent here."""

    deals: dict[int, tuple[int, int]] = field(default_factory=dict)
    slots: dict[Slot, tuple[int, int]] = field(default_factory=dict)
    hours: dict[tuple[int, datetime], HourTotals] = field(default_factory=dict)
    archived_purchases: dict[int, tuple[int, Decimal, float, float]] = field(default_factory=dict)
    """Per deal: archived purchases, their value and the sums of their log values and squares."""


def scan_log(session: Session, project_ids: Sequence[int] | None = None) -> LogTotals:
    """The totals of the campaigns ``project_ids`` (all when None): one aggregate over their
    log, one over their purchases."""
    hour = impression_hour(session.get_bind().dialect.name)
    grouped: Select[int, int | None, datetime, int, int] = select(
        Transaction.bandit_id,
        Transaction.position,
        hour,
        func.count(),
        func.coalesce(func.sum(case((Transaction.clicked, 1), else_=0)), 0),
    ).group_by(Transaction.bandit_id, Transaction.position, hour)
    bought = (
        select(Purchase.bandit_id, hour, func.count(), func.sum(Purchase.value))
        .join(Transaction, Transaction.transaction_id == Purchase.transaction_id)
        .group_by(Purchase.bandit_id, hour)
    )
    if project_ids is not None:
        grouped = grouped.where(Transaction.project_id.in_(project_ids))
        bought = bought.where(Transaction.project_id.in_(project_ids))
    totals = LogTotals()
    deals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    hours: dict[tuple[int, datetime], HourTotals] = defaultdict(HourTotals)
    for bandit_id, position, at, shown, clicked in session.execute(grouped):
        deals[bandit_id][0] += shown
        deals[bandit_id][1] += clicked
        if position is not None:
            slot = totals.slots.get((bandit_id, position), (0, 0))
            totals.slots[(bandit_id, position)] = (slot[0] + shown, slot[1] + clicked)
        row = hours[(bandit_id, at)]
        row.impressions += shown
        row.clicks += clicked
    for bandit_id, at, count, value in session.execute(bought):
        row = hours[(bandit_id, at)]
        row.purchases = int(count)
        row.purchase_value = Decimal(value)
    _add_archive(session, project_ids, totals, deals, hours)
    totals.deals = {b: (n, c) for b, (n, c) in deals.items()}
    totals.hours = dict(hours)
    return totals


def _add_archive(
    session: Session,
    project_ids: Sequence[int] | None,
    totals: LogTotals,
    deals: dict[int, list[int]],
    hours: dict[tuple[int, datetime], HourTotals],
) -> None:
    """Add what retention archived to the log's totals (nothing before any retention)."""
    archived = select(ArchivedLog)
    if project_ids is not None:
        archived = archived.join(Bandit, Bandit.bandit_id == ArchivedLog.bandit_id).where(
            Bandit.project_id.in_(project_ids)
        )
    for row in session.scalars(archived):
        deals[row.bandit_id][0] += row.impressions
        deals[row.bandit_id][1] += row.clicks
        if row.position:
            slot = totals.slots.get((row.bandit_id, row.position), (0, 0))
            totals.slots[(row.bandit_id, row.position)] = (
                slot[0] + row.impressions,
                slot[1] + row.clicks,
            )
        hour = hours[(row.bandit_id, row.hour)]
        hour.impressions += row.impressions
        hour.clicks += row.clicks
        hour.purchases += row.purchases
        hour.purchase_value += Decimal(row.purchase_value)
        count, value, logs, squares = totals.archived_purchases.get(
            row.bandit_id, (0, Decimal(0), 0.0, 0.0)
        )
        totals.archived_purchases[row.bandit_id] = (
            count + row.purchases,
            value + Decimal(row.purchase_value),
            logs + row.log_value_sum,
            squares + row.log_value_square_sum,
        )
