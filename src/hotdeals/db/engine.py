"""Engines and sessions for the configured database.

PostgreSQL URLs are routed to the psycopg 3 driver whatever their spelling, and SQLite gets the
pragmas it needs to behave like a real database (foreign keys enforced, WAL so that readers do
not block the writer, a busy timeout instead of instant "database is locked" errors).

Every wait is bounded (:class:`Timeouts`, from ``HOTDEALS_CONNECT_TIMEOUT_S``,
``HOTDEALS_STATEMENT_TIMEOUT_MS`` and ``HOTDEALS_LOCK_TIMEOUT_MS``): PostgreSQL gets its
statement and lock timeouts as startup options of each new connection (libpq ``options``), so
they cost no round trip on any request; SQLite's busy timeout is the lock timeout. Analyst
engines (:meth:`Timeouts.for_analysts`: exports, ``db-check``, replay) keep the lock timeout but
no statement timeout.

A URL may name several hosts and ask for the one that takes writes
(``postgresql://u@/db?host=h1:p1&host=h2:p2&target_session_attrs=read-write``): libpq tries
them in order at each new connection, so after a failover the next connection finds the new
primary. A URL ending in ``&pgbouncer=true`` reaches PostgreSQL through PgBouncer in transaction
mode: no prepared statements and no startup options then (the timeouts are the role's,
``ALTER ROLE ... SET``; docs/scaling.md). Whatever the URL, a write refused as read-only
(the server was demoted while the connection lived) or a driver that lost track of the protocol
(a pooler's server died) drops the pool like a lost connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.config import Settings
from hotdeals.errors import DatabaseUnavailable

# SQLite has no "no timeout": a lock timeout of 0 (none) waits this long, in milliseconds.
_SQLITE_FOREVER_MS = 86_400_000
# The URL's query parameter that says "through PgBouncer in transaction mode" (not libpq's: it
# is removed before connecting). Prisma's URLs spell it the same way.
PGBOUNCER_PARAMETER = "pgbouncer"
# SQLSTATE read_only_sql_transaction: a write reached a standby.
_READ_ONLY_SQLSTATE = "25006"


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
        when both are 0 (the server's or the role's settings then hold)."""
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


def behind_pgbouncer(url: URL) -> bool:
    """Whether ``url`` reaches PostgreSQL through PgBouncer in transaction mode
    (``?pgbouncer=true``). The flag travels with the URL rather than in a setting of its own,
    because one deployment uses both kinds: the app's URL through the poolers, an analyst's or
    a migration's straight to the node, and each must say which it is."""
    return url.query.get(PGBOUNCER_PARAMETER) == "true"


def _unusable_is_a_lost_connection(context: ExceptionContext) -> BaseException | None:
    """Two errors that SQLAlchemy does not count as a lost connection leave a connection that
    only fails; it is dropped with its pool, as for a lost one, and the error becomes an
    :class:`OperationalError`, which the service answers with 503 and Retry-After:

    * a write refused as read-only (SQLSTATE 25006): the connection reaches a standby, the node
      was demoted while it lived (a switchover; a pooler reconnected to the old primary). The
      next connection goes through ``target_session_attrs`` again and finds the primary;
    * psycopg's own ``InternalError`` (no SQLSTATE: the server did not send it), e.g.
      "received 2 results from command 'BEGIN'": when a PostgreSQL node dies, PgBouncer can
      hand a client the dead server's last error with the answer to its next command, and the
      driver loses track of the protocol on that connection."""
    original = context.original_exception
    sqlstate = getattr(original, "sqlstate", None)
    confused = isinstance(original, psycopg.InternalError) and sqlstate is None
    if sqlstate != _READ_ONLY_SQLSTATE and not confused:
        return None
    context.is_disconnect = True
    return OperationalError(
        context.statement, context.parameters, original, connection_invalidated=True
    )


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
    pgbouncer = behind_pgbouncer(url)
    url = url.difference_update_query([PGBOUNCER_PARAMETER])
    options = timeouts.postgres_options()
    if pgbouncer:
        # psycopg prepares a statement on a connection after its fifth run; PgBouncer (1.18)
        # in transaction mode sends the next transaction to another server connection, where
        # that prepared statement does not exist. PgBouncer also refuses startup options.
        connect_args["prepare_threshold"] = None
    elif options is not None:  # after the URL's own options (e.g. a search_path), if any
        own = url.query.get("options")
        connect_args["options"] = f"{own} {options}" if own else options
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=timeouts.connect_s,
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args=connect_args,
    )
    event.listen(engine, "handle_error", _unusable_is_a_lost_connection)
    return engine


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
