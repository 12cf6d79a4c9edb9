"""Locks held from another connection, to stall the service's writes on purpose."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine


@contextmanager
def deal_rows_held(engine: Engine) -> Iterator[None]:
    """The deal rows are locked by another connection inside the block."""
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        assert path is not None
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")  # the one write lock of the file
            yield
            holder.execute("ROLLBACK")
        finally:
            holder.close()
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT bandit_id FROM bandits FOR UPDATE")
        yield
        connection.rollback()


@contextmanager
def counters_held(engine: Engine) -> Iterator[None]:
    """PostgreSQL: the deal rows are locked as a writer's counting UPDATE locks them (``FOR NO
    KEY UPDATE``) inside the block: new impressions (whose foreign keys only share-lock the
    deals) go in, counting waits."""
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT bandit_id FROM bandits FOR NO KEY UPDATE")
        yield
        connection.rollback()
