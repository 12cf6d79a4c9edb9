"""Liveness and readiness of the real app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from hotdeals.app import create_app
from hotdeals.config import Settings
from hotdeals.db.migrate import alembic_config, head_revision
from tests.conftest import require
from tests.support.postgres import SERVER_URL, ThrowawayPostgres


def test_healthz_and_readyz_answer_on_a_reachable_database(configured: str) -> None:
    with TestClient(create_app()) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready"}


def test_readyz_is_503_when_the_database_is_down() -> None:
    settings = Settings(database_url="postgresql://nobody@127.0.0.1:1/nowhere")
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "DATABASE_URL: cannot reach" in ready.json()["detail"]


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


def readyz(url: str) -> tuple[int, dict[str, str]]:
    with TestClient(create_app(Settings(database_url=url))) as client:
        ready = client.get("/readyz")
        return ready.status_code, ready.json()


def test_readyz_is_503_naming_the_migration_until_the_schema_is_at_head(
    unmigrated_url: str,
) -> None:
    head = head_revision()
    status, body = readyz(unmigrated_url)
    assert status == 503
    assert body["status"] == "unavailable"
    assert f"has no schema (migrations up to {head} are missing)" in body["detail"]
    assert "hotdeals init-db" in body["detail"]

    config = alembic_config(unmigrated_url)
    command.upgrade(config, "head")
    command.downgrade(config, "-1")
    status, body = readyz(unmigrated_url)
    assert status == 503
    assert f"this version needs {head} (missing migration {head})" in body["detail"]

    command.upgrade(config, "head")
    assert readyz(unmigrated_url) == (200, {"status": "ready"})
