"""Keeping the partitioned log ready for what comes: its next ranges made ahead of the ids.

A use case of its own transaction, run by ``hotdeals init-db``, ``hotdeals db-maintain`` and
every server once an hour (:mod:`hotdeals.db.partitions` says why ranges are made ahead).
"""

from __future__ import annotations

from sqlalchemy import Engine

from hotdeals.db.partitions import ensure_partitions

__all__ = ["keep_partitions_ahead"]


def keep_partitions_ahead(engine: Engine) -> list[str]:
    """Create the log's missing ranges ahead of its ids; the tables created (none on SQLite)."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.begin() as connection:
        return ensure_partitions(connection)
