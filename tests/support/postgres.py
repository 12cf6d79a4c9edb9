"""Throwaway PostgreSQL databases: created for one run (or one test) and dropped after it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text

from hotdeals.db.engine import make_engine, normalise_url
from hotdeals.db.migrate import upgrade_to_head

SERVER_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


class ThrowawayPostgres:
    """A database created on the configured server for one run and dropped at the end."""

    def __init__(self, server_url: str = SERVER_URL) -> None:
        self.admin_url = normalise_url(server_url)
        self.name = f"hotdeals_test_{uuid.uuid4().hex[:12]}"
        self.url = self.admin_url.set(database=self.name)

    def _admin(self) -> Engine:
        return create_engine(self.admin_url, isolation_level="AUTOCOMMIT")

    def create(self) -> str:
        admin = self._admin()
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        finally:
            admin.dispose()
        return self.url.render_as_string(hide_password=False)

    def drop(self) -> None:
        admin = self._admin()
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        finally:
            admin.dispose()


@contextmanager
def migrated_postgres() -> Iterator[str]:
    """The URL of a fresh, migrated PostgreSQL database, dropped on exit."""
    database = ThrowawayPostgres()
    url = database.create()
    try:
        engine = make_engine(url)
        upgrade_to_head(engine)
        engine.dispose()
        yield url
    finally:
        database.drop()
