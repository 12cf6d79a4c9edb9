"""Engines and sessions for the configured database.

PostgreSQL URLs are routed to the psycopg 3 driver whatever their spelling, and SQLite gets the
pragmas it needs to behave like a real database (foreign keys enforced, WAL so that readers do
not block the writer, a busy timeout instead of instant "database is locked" errors).

Every wait is bounded (:class:`Timeouts`, from ``HOTDEALS_CONNECT_TIMEOUT_S``,
``HOTDEALS_STATEMENT_TIMEOUT_MS`` and ``HOTDEALS_LOCK_TIMEOUT_MS``): PostgreSQL gets its
statement and lock timeouts as startup options of each new connection (libpq ``options``), so
they cost no round trip on any request; SQLite's busy timeout is the lock timeout. Analyst
engines (:meth:`Timeouts.for_analysts`: exports, ``db-check``, replay) keep the lock timeout but
no statement timeout. Behind PgBouncer in transaction mode, set them per role instead
(docs/scaling.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.config import Settings
from hotdeals.errors import DatabaseUnavailable

# SQLite has no "no timeout": a lock timeout of 0 (none) waits this long, in milliseconds.
_SQLITE_FOREVER_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Timeouts:
    """How long one connection may wait: connecting (and for a pooled connection), one statement,
    one lock. 0 ms means no limit (PostgreSQL's own meaning). The defaults are the settings'."""

    connect_s: int = 5
    statement_ms: int = 5_000
    lock_ms: int = 2_000

    @classmethod
    def of(cls, settings: Settings) -> Timeouts:
        return cls(
            connect_s=settings.hotdeals_connect_timeout_s,
            statement_ms=settings.hotdeals_statement_timeout_ms,
            lock_ms=settings.hotdeals_lock_timeout_ms,
        )

    def for_analysts(self) -> Timeouts:
        """The same without a statement timeout: a long export or audit is not a stall."""
        return replace(self, statement_ms=0)

    def postgres_options(self) -> str | None:
        """The libpq ``options`` that set them at connection start (no round trip later); none
        when both are 0, so that PgBouncer (which refuses ``options``) gets none."""
        if not self.statement_ms and not self.lock_ms:
            return None
        return f"-c statement_timeout={self.statement_ms} -c lock_timeout={self.lock_ms}"

    @property
    def sqlite_busy_ms(self) -> int:
        return self.lock_ms or _SQLITE_FOREVER_MS


def normalise_url(raw: str) -> URL:
    """Pick our drivers: psycopg 3 for PostgreSQL, the standard library for SQLite."""
    url = make_url(raw)
    if url.get_backend_name() == "postgresql" and url.drivername != "postgresql+psycopg":
        url = url.set(drivername="postgresql+psycopg")
    return url


def _sqlite_pragmas(busy_ms: int) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cursor.close()

    return on_connect


def make_engine(raw_url: str, *, pool_size: int = 10, timeouts: Timeouts | None = None) -> Engine:
    """An engine for ``raw_url`` with the pool, pragmas and bounded waits this service relies
    on (``timeouts``: the documented defaults unless given)."""
    timeouts = timeouts or Timeouts()
    url = normalise_url(raw_url)
    if url.get_backend_name() == "sqlite":
        busy_ms = timeouts.sqlite_busy_ms
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": busy_ms / 1000}
        )
        event.listen(engine, "connect", _sqlite_pragmas(busy_ms))
        return engine
    connect_args: dict[str, Any] = {"connect_timeout": timeouts.connect_s}
    options = timeouts.postgres_options()
    if options is not None:  # after the URL's own options (e.g. a search_path), if any
        own = url.query.get("options")
        connect_args["options"] = f"{own} {options}" if own else options
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=timeouts.connect_s,
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args=connect_args,
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit, as services return them."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def check_connection(engine: Engine) -> None:
    """Turn an unreachable database into one readable line instead of a driver traceback."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        raise unreachable(engine, exc) from None


def unreachable(engine: Engine, exc: OperationalError) -> DatabaseUnavailable:
    """The one line that says why ``engine``'s database could not be reached (no password)."""
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    safe_url = engine.url.render_as_string(hide_password=True)
    return DatabaseUnavailable(f"DATABASE_URL: cannot reach {safe_url}: {reason}")


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session
