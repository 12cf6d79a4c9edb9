"""Engines and sessions for the configured database.

PostgreSQL URLs are routed to the psycopg 3 driver whatever their spelling, and SQLite gets the
pragmas it needs to behave like a real database (foreign keys enforced, WAL so that readers do
not block the writer, a busy timeout instead of instant "database is locked" errors).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.errors import DatabaseUnavailable


def normalise_url(raw: str) -> URL:
    """Pick our drivers: psycopg 3 for PostgreSQL, the standard library for SQLite."""
    url = make_url(raw)
    if url.get_backend_name() == "postgresql" and url.drivername != "postgresql+psycopg":
        url = url.set(drivername="postgresql+psycopg")
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(raw_url: str, *, pool_size: int = 10) -> Engine:
    """An engine for ``raw_url`` with the pool and pragmas this service relies on."""
    url = normalise_url(raw_url)
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,
        pool_recycle=1800,
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
