"""Bounded waits on every connection: connect, statement and lock timeouts from the settings,
set at connection start (no round trip per request); analyst jobs without the statement one."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.cli.common import database
from hotdeals.config import Settings
from hotdeals.db.counters import Impression, log_impressions
from hotdeals.db.engine import Timeouts, make_engine
from hotdeals.services.export import export_rows
from tests.factories import make_project, make_user


@pytest.fixture
def postgres(postgres_url: str) -> str:
    return postgres_url


def settings_of(engine: Engine) -> tuple[str, str]:
    with engine.connect() as connection:
        statement = connection.execute(text("SHOW statement_timeout")).scalar_one()
        lock = connection.execute(text("SHOW lock_timeout")).scalar_one()
        return statement, lock


@pytest.fixture
def tight(postgres: str) -> Iterator[Engine]:
    engine = make_engine(postgres, timeouts=Timeouts(connect_s=3, statement_ms=50, lock_ms=30))
    yield engine
    engine.dispose()


def test_the_defaults_are_the_documented_settings() -> None:
    settings = Settings()
    assert Timeouts.of(settings) == Timeouts(connect_s=5, statement_ms=5_000, lock_ms=2_000)
    assert settings.hotdeals_request_deadline_ms == 3_000


def test_postgres_connections_start_with_the_statement_and_lock_timeouts(
    postgres: str, tight: Engine
) -> None:
    assert settings_of(tight) == ("50ms", "30ms")
    with pytest.raises(OperationalError, match="statement timeout"), tight.connect() as c:
        c.execute(text("SELECT pg_sleep(1)"))
    analyst = make_engine(postgres, timeouts=Timeouts(statement_ms=50, lock_ms=30).for_analysts())
    try:
        assert settings_of(analyst) == ("0", "30ms")
    finally:
        analyst.dispose()


def test_the_url_s_own_options_are_kept(postgres: str) -> None:
    engine = make_engine(f"{postgres}?options=-c%20application_name%3Dshop")
    try:
        with engine.connect() as connection:
            name = connection.execute(text("SHOW application_name")).scalar_one()
        assert name == "shop"
        assert settings_of(engine) == ("5s", "2s")
    finally:
        engine.dispose()


def test_no_options_are_sent_when_both_timeouts_are_off(postgres: str) -> None:
    """PgBouncer refuses startup ``options``: with both timeouts 0 (set per role instead, see
    docs/scaling.md) the service sends none, and the server's own settings hold."""
    assert Timeouts(statement_ms=0, lock_ms=0).postgres_options() is None
    engine = make_engine(postgres, timeouts=Timeouts(statement_ms=0, lock_ms=0))
    try:
        assert settings_of(engine) == ("0", "0")  # the throwaway server's defaults
    finally:
        engine.dispose()


def test_a_lock_wait_ends_at_the_lock_timeout(postgres: str, tight: Engine) -> None:
    holder = make_engine(postgres)
    try:
        with holder.connect() as held:
            held.execute(text("LOCK TABLE bandits IN ACCESS EXCLUSIVE MODE"))
            with pytest.raises(OperationalError, match="lock timeout"), tight.connect() as c:
                c.execute(text("SELECT count(*) FROM bandits"))
            held.rollback()
    finally:
        holder.dispose()


def test_sqlite_waits_for_a_lock_as_long_as_the_lock_timeout(tmp_path: object) -> None:
    for lock_ms, busy in ((2_000, 2_000), (250, 250), (0, 86_400_000)):
        engine = make_engine(f"sqlite:///{tmp_path}/t.db", timeouts=Timeouts(lock_ms=lock_ms))
        try:
            with engine.connect() as connection:
                assert connection.execute(text("PRAGMA busy_timeout")).scalar_one() == busy
        finally:
            engine.dispose()


def test_commands_are_analyst_jobs_without_the_statement_timeout(
    configured: str, engine: Engine
) -> None:
    with database() as (cli_engine, _):
        if cli_engine.dialect.name == "postgresql":
            assert settings_of(cli_engine) == ("0", "2s")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite has none
def test_an_export_is_not_cut_by_the_statement_timeout(
    postgres: str, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    """The export's own transaction lifts the statement timeout (``SET LOCAL``), so it holds
    on the server's engine (the API's streamed CSV) and behind PgBouncer alike: an export that
    waits 0.3 s (here behind a lock on the log) on an engine with a 50 ms statement timeout and
    no lock timeout finishes."""
    with sessions.begin() as session:
        customer = make_user(session).customer_id
        project = make_project(session, deals=1)
        arm = project.bandits[0].bandit_id
        log_impressions(session, [Impression(customer, project.project_id, arm, 1)] * 3)
        project_id = project.project_id
    slow = make_engine(postgres, timeouts=Timeouts(statement_ms=50, lock_ms=0))
    locked = threading.Event()
    released = threading.Event()

    def hold_the_log() -> None:
        with engine.connect() as held:
            held.execute(text("LOCK TABLE transactions IN ACCESS EXCLUSIVE MODE"))
            locked.set()
            export_waits = (
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND query LIKE '%FROM transactions%'"
            )
            deadline = time.monotonic() + 30
            while not held.execute(text(export_waits)).scalar_one():
                assert time.monotonic() < deadline, "the export never waited for the lock"
                time.sleep(0.01)  # polls the server for the export's lock wait (bounded)
                held.execute(text("SELECT pg_stat_clear_snapshot()"))  # read afresh
            time.sleep(0.3)  # the stall's length: longer than the statement timeout
            held.rollback()
        released.set()

    holder = threading.Thread(target=hold_the_log)
    try:
        holder.start()
        assert locked.wait(timeout=30)
        assert len(list(export_rows(slow, project_id))) == 3
        assert released.is_set()
    finally:
        holder.join(timeout=60)
        slow.dispose()
