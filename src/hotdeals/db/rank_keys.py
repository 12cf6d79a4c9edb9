"""Idempotency-Keys of rank requests as batch SQL: claim any number of keys in one statement,
store the impressions each one logged, read what taken keys hold.

A key is claimed by inserting its ``rank_requests`` row, in the transaction that logs the
ranking's impressions and counts them. So a key is taken exactly when its ranking is committed,
and a key claimed in a transaction that rolls back is free again. Both paths of the learning
loop claim keys here: the group commit a whole batch's at once, after inserting the impressions
(the rows hold their ids from the start: one statement); the exact path one key before it ranks
(so a retry replays whatever the project's state now) and stores the ids after.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hotdeals.db.models import Base
from hotdeals.db.types import utcnow

RANK_REQUESTS = Base.metadata.tables["rank_requests"]


@dataclass(frozen=True, slots=True)
class KeyClaim:
    """An Idempotency-Key and the one project and customer it may rank for."""

    key: str
    project_id: int
    customer_id: int


@dataclass(frozen=True, slots=True)
class KeyRow:
    """What a taken key holds: whose ranking it was and the impressions it logged."""

    project_id: int
    customer_id: int
    transaction_ids: list[int]


def claim_keys(
    session: Session,
    claims: Sequence[KeyClaim],
    logged: Mapping[str, Sequence[int]] | None = None,
) -> set[str]:
    """Insert a ``rank_requests`` row for each key, holding the impressions ``logged`` under it
    when they are already inserted (else none yet: :func:`store_transaction_ids`); return the
    keys claimed.

    One ``INSERT ... ON CONFLICT (idempotency_key) DO NOTHING RETURNING`` for any number of
    keys (unique in ``claims``), none for no keys. A key left out of the answer was taken by a
    committed transaction: read it with :func:`read_keys`. On PostgreSQL a key inserted by a
    transaction still running makes this statement wait for it, then count it taken (that
    transaction committed) or claim it (it rolled back); SQLite's one writer lock means there
    is no such transaction. The rows are inserted in key order, so two transactions claiming
    overlapping keys wait for each other in one order, never in a cycle (no deadlock).
    """
    if not claims:
        return set()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    rows = [
        {
            "idempotency_key": claim.key,
            "project_id": claim.project_id,
            "customer_id": claim.customer_id,
            "transaction_ids": list((logged or {}).get(claim.key, ())),
            "created_at": now,
        }
        for claim in sorted(claims, key=lambda claim: claim.key)
    ]
    statement = (
        insert(RANK_REQUESTS)
        .on_conflict_do_nothing(index_elements=[RANK_REQUESTS.c.idempotency_key])
        .returning(RANK_REQUESTS.c.idempotency_key)
    )
    return set(session.scalars(statement, rows))


def store_transaction_ids(session: Session, logged: Mapping[str, Sequence[int]]) -> None:
    """Store under each key claimed in this transaction the ids of the impressions it logged.

    One executemany ``UPDATE`` by primary key for any number of keys, none for no keys.
    """
    if not logged:
        return
    table = RANK_REQUESTS.c
    statement = (
        update(RANK_REQUESTS)
        .where(table.idempotency_key == bindparam("key"))
        .values(transaction_ids=bindparam("ids", type_=table.transaction_ids.type))
    )
    session.execute(statement, [{"key": key, "ids": list(ids)} for key, ids in logged.items()])


def read_keys(session: Session, keys: Collection[str]) -> dict[str, KeyRow]:
    """The committed (or own) rows of these keys, in one ``SELECT``; unknown keys are left out."""
    if not keys:
        return {}
    table = RANK_REQUESTS.c
    rows = session.execute(
        select(
            table.idempotency_key, table.project_id, table.customer_id, table.transaction_ids
        ).where(table.idempotency_key.in_(sorted(keys)))
    )
    return {
        row.idempotency_key: KeyRow(row.project_id, row.customer_id, list(row.transaction_ids))
        for row in rows
    }
