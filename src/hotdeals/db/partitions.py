"""The transactions log's partitions on PostgreSQL: ranges of ``transaction_id``, made ahead.

On PostgreSQL ``transactions`` is partitioned by range of its id (migration 0009); SQLite keeps
the plain table. Ids come from one sequence in commit order, so an id range is a span of time
(``PARTITION_IDS`` ids: about a month at 300,000 impressions a day), and keying the ranges on
the id rather than on ``timestamp`` keeps the primary key, the purchases' foreign key and every
click's lookup by id on one partition. Partitions live in their own schema (``log_partitions``),
out of the application's tables, and are named by their first id.

Nothing inserts into a range that has no partition: :func:`ensure_partitions` keeps at least
``AHEAD`` empty ranges beyond the sequence's position. It runs in the migration, in ``hotdeals
init-db`` and ``db-maintain``, and hourly in every server, so a server would have to be down for
about two months of traffic before an insert could fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, ForeignKeyConstraint, text

__all__ = [
    "AHEAD",
    "PARTITION_IDS",
    "SCHEMA",
    "Partition",
    "ensure_partitions",
    "is_partition_detail",
    "list_partitions",
    "next_id",
]

SCHEMA: Final = "log_partitions"
PARTITION_IDS: Final = 10_000_000
AHEAD: Final = 2
SEQUENCE: Final = "transactions_transaction_id_seq"

_BOUND = re.compile(r"FROM \((MINVALUE|'?(-?\d+)'?)\) TO \((MAXVALUE|'?(-?\d+)'?)\)")


@dataclass(frozen=True, slots=True)
class Partition:
    """One partition: its table (schema-qualified) and its ids ``[low, high)`` (None: open)."""

    table: str
    low: int | None
    high: int | None


def list_partitions(connection: Connection) -> list[Partition]:
    """The log's partitions in id order; empty when the log is not partitioned (SQLite, or
    PostgreSQL before migration 0009)."""
    if connection.dialect.name != "postgresql":
        return []
    rows = connection.execute(
        text(
            "SELECT n.nspname || '.' || c.relname, pg_get_expr(c.relpartbound, c.oid) "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE i.inhparent = 'public.transactions'::regclass"
        )
    ).all()
    found = []
    for table, bound in rows:
        match = _BOUND.search(bound or "")
        if match is None:
            raise RuntimeError(f"partition {table} has a bound we do not make: {bound}")
        low = None if match.group(1) == "MINVALUE" else int(match.group(2))
        high = None if match.group(3) == "MAXVALUE" else int(match.group(4))
        found.append(Partition(table, low, high))
    return sorted(found, key=lambda p: -1 if p.low is None else p.low)


def next_id(connection: Connection) -> int:
    """The id the sequence hands out next."""
    last, called = connection.execute(
        text(f"SELECT last_value, is_called FROM {SEQUENCE}")  # noqa: S608 (a constant name)
    ).one()
    return int(last) + 1 if called else int(last)


def lock_partitions(connection: Connection) -> None:
    """Wait for, and hold until the transaction ends, the one lock of the log's partitions:
    servers making ranges or retiring them never race each other."""
    connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('hotdeals.partitions'))"))


def ensure_partitions(connection: Connection, *, span: int = PARTITION_IDS) -> list[str]:
    """Create the ranges of ``span`` ids that keep ``AHEAD`` empty ones beyond the sequence;
    return the tables created. Nothing on a log that is not partitioned.

    Takes a transaction-level advisory lock so that servers starting together do not race to
    create the same range (the loser would fail on the name and retry next hour anyway).
    """
    partitions = list_partitions(connection)
    if not partitions:
        return []
    lock_partitions(connection)
    partitions = list_partitions(connection)
    top = partitions[-1].high
    if top is None:  # an open-ended last range never needs more
        return []
    created = []
    while top - next_id(connection) < AHEAD * span:
        table = f"{SCHEMA}.transactions_{top:012d}"
        connection.execute(
            text(
                f"CREATE TABLE {table} PARTITION OF transactions "
                f"FOR VALUES FROM ({top}) TO ({top + span})"
            )
        )
        created.append(table)
        top += span
    return created


def is_partition_detail(item: Any, type_: str) -> bool:
    """Whether a reflected schema object is PostgreSQL's own bookkeeping of the partitions (a
    foreign key to the log is cloned onto every partition): schema comparisons skip these."""
    if type_ != "foreign_key_constraint" or not isinstance(item, ForeignKeyConstraint):
        return False
    return (
        any(element.column.table.schema == SCHEMA for element in item.elements)
        if item.elements
        else False
    )
