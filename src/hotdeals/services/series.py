"""A campaign's traffic over time, read from the hour rollups (``deal_hours``), never the log.

The writers keep one row per deal and UTC hour of the impression (:mod:`hotdeals.db.rollups`),
so a series costs deals x hours rows whatever the size of the log: a year of a busy campaign is
the same query as its first day. The last 24 hours' shares read the rollups too, and the log
only for the hour the window starts in (at most an hour of rows, by its campaign-and-time index).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal, TypeVarTuple

from sqlalchemy import ColumnElement, Select, distinct, func, select, type_coerce
from sqlalchemy.orm import Session

from hotdeals.db.models import Bandit, Transaction
from hotdeals.db.rollups import hour_of
from hotdeals.db.service_tables import DealHour
from hotdeals.db.types import UTCDateTime
from hotdeals.errors import BanditNotFound
from hotdeals.services.projects import require_project

__all__ = ["Bucket", "SeriesPoint", "last_day_impressions", "time_series"]

Bucket = Literal["hour", "day"]


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One deal's traffic in one time bucket: what it was shown, and what those showings led to.

    ``purchases`` and ``purchase_value`` (an exact sum, in the campaign's currency) belong to the
    bucket of the impression they followed, not to the hour of the checkout: a deal's revenue is
    read against the traffic that earned it, and a bucket's figures never change with the time
    a shop takes to report a purchase, only with whether it reports one.
    """

    bucket_start: datetime
    bandit_id: int
    impressions: int
    clicks: int
    purchases: int = 0
    purchase_value: Decimal = Decimal(0)


def _day(dialect: str) -> ColumnElement[datetime]:
    """The UTC day of a rollup's hour, as a timestamp of the same type."""
    if dialect == "postgresql":
        day = func.date_trunc("day", DealHour.hour, "UTC")
    else:  # the text SQLAlchemy writes for a timestamp, at midnight
        day = func.strftime("%Y-%m-%d 00:00:00.000000", DealHour.hour)
    return type_coerce(day, UTCDateTime())


def _money(total: Decimal | float | int | None) -> Decimal:
    """A sum of the NUMERIC(14, 2) column as an exact two-decimal amount, whichever type the
    driver hands back (a float's shortest string reads back as the two decimals it holds)."""
    if total is None:
        return Decimal("0.00")
    return Decimal(str(total)).quantize(Decimal("0.01"))


def time_series(
    session: Session,
    project_id: int,
    bucket: Bucket = "hour",
    *,
    bandit_ids: Collection[int] | None = None,
) -> list[SeriesPoint]:
    """Impressions, clicks, purchases and their value per deal per hour or day (UTC), oldest
    first; every figure is bucketed by the impression's time (see :class:`SeriesPoint`). Only
    the deals ``bandit_ids`` when given (a chart of a campaign of many deals draws a few), each
    of which must be a deal of the campaign (:class:`BanditNotFound` names the first that is
    not)."""
    require_project(session, project_id)
    if bandit_ids is not None:
        _require_deals(session, project_id, bandit_ids)
    start = (DealHour.hour if bucket == "hour" else _day(session.get_bind().dialect.name)).label(
        "bucket_start"
    )
    query = (
        select(
            start,
            DealHour.bandit_id,
            func.sum(DealHour.impressions).label("impressions"),
            func.sum(DealHour.clicks).label("clicks"),
            func.sum(DealHour.purchases).label("purchases"),
            func.sum(DealHour.purchase_value).label("purchase_value"),
        )
        .group_by(start, DealHour.bandit_id)
        .order_by(start, DealHour.bandit_id)
    )
    query = _of_deals(query, project_id, bandit_ids)
    return [
        SeriesPoint(
            row.bucket_start,
            row.bandit_id,
            int(row.impressions),
            int(row.clicks),
            int(row.purchases or 0),
            _money(row.purchase_value),
        )
        for row in session.execute(query)
    ]


Columns = TypeVarTuple("Columns")


def _of_deals(
    query: Select[*Columns], project_id: int, bandit_ids: Collection[int] | None
) -> Select[*Columns]:
    """``query`` on the campaign's rollups, or on those of its deals ``bandit_ids``: then by
    deal alone (the primary key's prefix), since a campaign's condition beside them let a
    planner with stale statistics read the campaign's every row (17 ms at 720,000)."""
    if bandit_ids is None:
        return query.where(DealHour.project_id == project_id)
    return query.where(DealHour.bandit_id.in_(sorted(bandit_ids)))


def _require_deals(session: Session, project_id: int, bandit_ids: Collection[int]) -> None:
    found = set(
        session.scalars(
            select(Bandit.bandit_id).where(
                Bandit.project_id == project_id, Bandit.bandit_id.in_(sorted(set(bandit_ids)))
            )
        )
    )
    missing = sorted(set(bandit_ids) - found)
    if missing:
        raise BanditNotFound(f"deal {missing[0]} is not a deal of project {project_id}")


def hours_with_traffic(
    session: Session, project_id: int, bandit_ids: Collection[int] | None = None
) -> int:
    """How many hours a series of the campaign's deals ``bandit_ids`` (all when None) would
    have: a chart choosing between hours and days asks this before reading thousands of
    hourly points."""
    query = _of_deals(select(func.count(distinct(DealHour.hour))), project_id, bandit_ids)
    return int(session.scalar(query) or 0)


def last_day_impressions(session: Session, project_id: int, now: datetime) -> dict[int, int]:
    """Each deal's impressions shown in the 24 hours up to ``now``: the rollups of the hours
    wholly inside, and the log from the window's start to the end of its first hour."""
    since = now - timedelta(hours=24)
    edge = hour_of(since) + timedelta(hours=1)
    shown: dict[int, int] = {}
    inside = (
        select(DealHour.bandit_id, func.sum(DealHour.impressions))
        .where(DealHour.project_id == project_id, DealHour.hour >= edge)
        .group_by(DealHour.bandit_id)
    )
    partial = (
        select(Transaction.bandit_id, func.count())
        .where(
            Transaction.project_id == project_id,
            Transaction.timestamp >= since,
            Transaction.timestamp < edge,
        )
        .group_by(Transaction.bandit_id)
    )
    for query in (inside, partial):
        for bandit_id, count in session.execute(query).all():
            shown[int(bandit_id)] = shown.get(int(bandit_id), 0) + int(count)
    return shown
