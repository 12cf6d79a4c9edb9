"""Throwaway PostgreSQL databases for tests that need a database of their own."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, create_engine, text

from hotdeals.db.engine import normalise_url


class ThrowawayPostgres:
    """A database created for this run on the configured server and dropped at the end."""

    def __init__(self, server_url: str) -> None:
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
