"""The per deal and hour rollups (``deal_hours``): written beside the counters, read by analytics.

Each batch adds its impressions, first clicks and purchases to the rows of the deal-hours it
touched, by one upsert statement in the same transaction as the deals' counters (after them, in
``(bandit_id, hour)`` order, so concurrent writers lock in one order; on PostgreSQL in the same
statement as the slot counters' upsert, saving the batch a round trip). A click or a purchase
counts in the hour of the impression it followed. Readers get a campaign's series from deals x
hours rows, whatever the size of the log.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, Numeric, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hotdeals.db.models import Base
from hotdeals.db.slot_counters import UNNEST_UPSERT, Slot, apply_slot_counts, unnest_params

DEAL_HOURS = Base.metadata.tables["deal_hours"]

DealHourKey = tuple[int, int, datetime]
"""``(bandit_id, project_id, hour)``: the hour as an aware UTC datetime on the hour."""


def hour_of(at: datetime) -> datetime:
    """The UTC hour ``at`` falls in (the rollup row it counts in)."""
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass(slots=True)
class HourCounts:
    """What one transaction adds to each deal-hour it touches."""

    impressions: Counter[DealHourKey] = field(default_factory=Counter)
    clicks: Counter[DealHourKey] = field(default_factory=Counter)
    purchases: Counter[DealHourKey] = field(default_factory=Counter)
    value: dict[DealHourKey, Decimal] = field(default_factory=dict)

    def purchase(self, key: DealHourKey, value: Decimal) -> None:
        self.purchases[key] += 1
        self.value[key] = self.value.get(key, Decimal(0)) + value

    def touched(self) -> list[DealHourKey]:
        """The touched deal-hours in ``(bandit_id, hour)`` order: the order rows are locked."""
        touched = set(self.impressions) | set(self.clicks) | set(self.purchases)
        return sorted(touched, key=lambda k: (k[0], k[2]))


_COLUMNS = ("bandit_id", "hour", "project_id", "impressions", "clicks", "purchases")
_ARRAYS: dict[str, postgresql.ARRAY[Any]] = {
    "bandit_id": postgresql.ARRAY(Integer),
    "hour": postgresql.ARRAY(DateTime(timezone=True)),
    "project_id": postgresql.ARRAY(Integer),
    "impressions": postgresql.ARRAY(BigInteger),
    "clicks": postgresql.ARRAY(BigInteger),
    "purchases": postgresql.ARRAY(BigInteger),
    "purchase_value": postgresql.ARRAY(Numeric(14, 2)),
}


def apply_counts_by_slot_and_hour(
    session: Session, shown: Counter[Slot], clicked: Counter[Slot], counts: HourCounts
) -> None:
    """The slot counters' upsert (:func:`~hotdeals.db.slot_counters.apply_slot_counts`) and
    :func:`apply_hour_counts`: on PostgreSQL one statement, the slots' upsert a CTE of the hours'
    (both run after the deals' rows are locked, so their order inside it cannot deadlock)."""
    if session.get_bind().dialect.name != "postgresql":
        apply_slot_counts(session, shown=shown, clicked=clicked)
        apply_hour_counts(session, counts)
        return
    if not (shown or clicked):
        apply_hour_counts(session, counts)
        return
    params: dict[str, list[Any]] = {**unnest_params(shown, clicked), **_hour_params(counts)}
    session.execute(_BOTH_UPSERT, params)


def apply_hour_counts(session: Session, counts: HourCounts) -> None:
    """Add ``counts`` to their deal-hour rows, creating the rows an hour's first event needs.

    ``INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n``: the increments happen in the
    database, so no concurrent update is lost. One statement of fixed text whatever the batch
    touches: on PostgreSQL the rows travel as arrays (``unnest``), as the slot counters do;
    SQLite, in process, takes them as an executemany.
    """
    if not counts.touched():
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_UNNEST_UPSERT, _hour_params(counts))
        return
    session.execute(_SQLITE_UPSERT, _hour_rows(counts))


def _hour_rows(counts: HourCounts) -> list[dict[str, Any]]:
    """One row per touched deal-hour, in ``(bandit_id, hour)`` order."""
    return [
        {
            "bandit_id": bandit_id,
            "hour": hour,
            "project_id": project_id,
            "impressions": counts.impressions[key],
            "clicks": counts.clicks[key],
            "purchases": counts.purchases[key],
            "purchase_value": counts.value.get(key, Decimal(0)),
        }
        for key in counts.touched()
        for bandit_id, project_id, hour in (key,)
    ]


def _hour_params(counts: HourCounts) -> dict[str, list[Any]]:
    """The rows as the arrays of :data:`_UNNEST_UPSERT` (named apart from the slots' arrays)."""
    rows = _hour_rows(counts)
    return {f"hour_{name}": [r[name] for r in rows] for name in _ARRAYS}


def _adding(statement: postgresql.Insert | sqlite.Insert) -> Any:
    """``statement`` with ``ON CONFLICT (bandit_id, hour)`` adding the excluded counts."""
    table = DEAL_HOURS.c
    return statement.on_conflict_do_update(
        index_elements=[table.bandit_id, table.hour],
        set_={
            name: table[name] + statement.excluded[name]
            for name in ("impressions", "clicks", "purchases", "purchase_value")
        },
    )


_ROWS = (
    func.unnest(*(bindparam(f"hour_{name}", type_=kind) for name, kind in _ARRAYS.items()))
    .table_valued(*_COLUMNS, "purchase_value")
    .render_derived(name="rows")
)
_UNNEST_UPSERT = _adding(
    postgresql.insert(DEAL_HOURS).from_select([*_COLUMNS, "purchase_value"], select(*_ROWS.c))
)
_SQLITE_UPSERT = _adding(sqlite.insert(DEAL_HOURS))
_BOTH_UPSERT = _UNNEST_UPSERT.add_cte(UNNEST_UPSERT.cte("slots"))


@dataclass(frozen=True, slots=True)
class DealHourRow:
    """One deal's figures of one hour, as analytics read them."""

    bandit_id: int
    hour: datetime
    impressions: int
    clicks: int
    purchases: int
    purchase_value: Decimal


def read_deal_hours(
    session: Session, project_id: int, *, since: datetime | None = None
) -> Sequence[DealHourRow]:
    """The campaign's rows from ``since``'s hour on (all when None), oldest hour first."""
    table = DEAL_HOURS.c
    query = (
        select(
            table.bandit_id,
            table.hour,
            table.impressions,
            table.clicks,
            table.purchases,
            table.purchase_value,
        )
        .where(table.project_id == project_id)
        .order_by(table.hour, table.bandit_id)
    )
    if since is not None:
        query = query.where(table.hour >= hour_of(since))
    return [
        DealHourRow(
            r.bandit_id,
            r.hour,
            int(r.impressions),
            int(r.clicks),
            int(r.purchases),
            Decimal(r.purchase_value),
        )
        for r in session.execute(query)
    ]
