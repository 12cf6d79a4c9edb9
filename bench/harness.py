"""Real servers and real databases for end-to-end checks, benchmarks and tests.

A :class:`ServerProcess` is ``hotdeals serve`` in its own process, exactly as an operator starts
it; a :class:`ThrowawayPostgres` is a database created for one run and dropped after it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import httpx
from sqlalchemy import Engine, create_engine, text

from hotdeals.db.engine import make_engine, normalise_url
from hotdeals.db.migrate import upgrade_to_head

ADMIN_TOKEN = "bench-admin-token"
SERVER_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
HOTDEALS = Path(sys.executable).with_name("hotdeals")


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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServerProcess:
    """``hotdeals serve`` on a free port of 127.0.0.1, ready when the context is entered."""

    def __init__(
        self, database_url: str, *, workers: int = 1, extra_env: dict[str, str] | None = None
    ) -> None:
        self.database_url = database_url
        self.workers = workers
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.log = Path(os.environ.get("TMPDIR", "/tmp")) / f"hotdeals-server-{self.port}.log"

    def start(self, timeout: float = 60.0) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "HOTDEALS_ADMIN_TOKEN": ADMIN_TOKEN,
            **self.extra_env,
        }
        command = [str(HOTDEALS), "serve", "--port", str(self.port), "--workers", str(self.workers)]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        """Poll /readyz until it answers 200; fail with the server's log if it never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)  # polling interval of a readiness probe, not synchronisation
        raise RuntimeError(f"server did not become ready:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown hooks, no flushing, like a power cut."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def run_db_check(database_url: str) -> subprocess.CompletedProcess[str]:
    """``hotdeals db-check`` against ``database_url`` as a separate process."""
    return subprocess.run(
        [str(HOTDEALS), "db-check"],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=False,
    )
