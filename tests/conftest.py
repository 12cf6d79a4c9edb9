"""Shared fixtures: one real database per backend for the whole run, emptied before each test.

Every database test runs on SQLite and on PostgreSQL. The PostgreSQL database is created for the
run and dropped after it (``TEST_DATABASE_URL`` points at another server). Without a server the
PostgreSQL half is skipped on a developer's machine and fails with ``CI=true``: CI must never
silently test less.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.config import get_settings
from hotdeals.db.engine import make_engine, make_session_factory
from hotdeals.db.migrate import upgrade_to_head
from hotdeals.db.models import Base
from tests.factories import TEST_ADMIN_TOKEN
from tests.support.postgres import SERVER_URL, ThrowawayPostgres, migrated_postgres
from tests.support.rate_limits import redis_reachable
from tests.support.server import GENEROUS_RATE_LIMITS

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(reason: str) -> None:
    """Skip locally, fail in CI: a missing service is a broken CI machine, not a pass."""
    if IN_CI:
        pytest.fail(f"{reason} (required with CI=true)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated throwaway PostgreSQL database for the whole run."""
    database = ThrowawayPostgres(SERVER_URL)
    try:
        url = database.create()
    except OperationalError as exc:
        require(f"no PostgreSQL at {make_url(SERVER_URL).render_as_string()}: {exc.orig}")
    engine = make_engine(url)
    upgrade_to_head(engine)
    engine.dispose()
    yield url
    database.drop()


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """A migrated PostgreSQL database of one test's own, for servers running in other processes."""
    try:
        with migrated_postgres() as url:
            yield url
    except OperationalError as exc:
        require(f"no PostgreSQL at {make_url(SERVER_URL).render_as_string()}: {exc.orig}")


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite file for the whole run."""
    path = Path(tmp_path_factory.mktemp("sqlite")) / "hotdeals.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """The URL of a migrated database, once per backend."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


def empty_database(engine: Engine) -> None:
    """Remove every row and restart the ids, keeping the schema (faster than re-migrating)."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            return
        # Without AUTOINCREMENT, SQLite restarts ids at max + 1, that is 1 once empty.
        connection.execute(text("UPDATE projects SET winner_bandit_id = NULL"))
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


_engines: dict[str, Engine] = {}


@pytest.fixture
def engine(database_url: str) -> Engine:
    """The backend's engine, with an empty database for this test."""
    if database_url not in _engines:
        _engines[database_url] = make_engine(database_url)
    engine = _engines[database_url]
    empty_database(engine)
    return engine


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work the test commits itself when it needs to."""
    with sessions() as session:
        yield session


@pytest.fixture
def configured(database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the settings (and so the CLI and the app) at the test database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("HOTDEALS_ADMIN_TOKEN", TEST_ADMIN_TOKEN)
    for name, value in GENEROUS_RATE_LIMITS.items():  # the rate-limit tests set their own
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for engine in _engines.values():
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def unmigrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database that exists but has no schema: an empty SQLite file, an empty PostgreSQL db."""
    if request.param == "sqlite":
        path = tmp_path / "empty.db"
        path.touch()
        yield f"sqlite:///{path}"
        return
    database = ThrowawayPostgres(SERVER_URL)
    try:
        url = database.create()
    except OperationalError as exc:
        require(f"no PostgreSQL at {make_url(SERVER_URL).render_as_string()}: {exc.orig}")
    try:
        yield url
    finally:
        database.drop()


@pytest.fixture(params=["memory", "redis"])
def storage(request: pytest.FixtureRequest) -> str:
    """The rate limits' storage: in-process memory, or the real Redis on 127.0.0.1:6379."""
    if request.param == "redis" and (why := redis_reachable()) is not None:
        require(why)
    return str(request.param)
