"""Liveness and readiness of the real app."""

from __future__ import annotations

import socket

from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hotdeals.app import create_app
from hotdeals.config import Settings
from hotdeals.db.migrate import alembic_config, head_revision
from hotdeals.http.state import AppState
from hotdeals.services.group_commit import _STOP
from tests.factories import TEST_ADMIN_TOKEN, post_project
from tests.support.locks import deal_rows_held


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


def test_readyz_is_503_while_the_writer_is_stopped_and_200_once_restarted(
    configured: str,
) -> None:
    with TestClient(create_app()) as client:
        state: AppState = client.app.state.hotdeals  # type: ignore[attr-defined]
        project = post_project(client, deals=2)
        visitor = {"visitor_id": "v-ready"}
        rank = f"/api/projects/{project['project_id']}/rank"
        assert client.post(rank, json=visitor).status_code == 200
        writer = state.learning.writer
        thread = writer._thread
        assert thread is not None
        writer._queue.put(_STOP)  # the writer's thread ends without close()
        thread.join(timeout=30)
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "writer has stopped" in ready.json()["detail"]
        assert client.post(rank, json=visitor).status_code == 200
        assert client.get("/readyz").status_code == 200


def test_readyz_is_503_while_the_writer_is_stalled(
    database_url: str, engine: Engine, configured: str
) -> None:
    """The database answers ``SELECT 1`` while the deal rows are locked: the writer's batch
    waits, and readiness says so once it has waited longer than the deadline (on the writer's
    injected clock), and is ready again after the rows are released."""
    settings = Settings(
        database_url=database_url,
        hotdeals_admin_token=TEST_ADMIN_TOKEN,
        hotdeals_request_deadline_ms=1_000,
        hotdeals_lock_timeout_ms=60_000,
    )
    with TestClient(create_app(settings)) as client:
        state: AppState = client.app.state.hotdeals  # type: ignore[attr-defined]
        project = post_project(client, deals=2)
        rank = f"/api/projects/{project['project_id']}/rank"
        deal = client.post(rank, json={"visitor_id": "v-stall"}).json()["deals"][0]
        token = {"token": deal["click_token"]}
        now = [1000.0]
        state.learning.writer.clock = lambda: now[0]
        with deal_rows_held(engine):
            late = client.post("/api/clicks", json=token)
            assert late.status_code == 503
            assert client.get("/readyz").status_code == 200  # waiting, not yet stalled
            now[0] += 1.5
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert "writer is stalled: no progress for 1.5 s" in ready.json()["detail"]
        click = client.post("/api/clicks", json=token)
        assert click.json()["already_recorded"] is True
        assert client.get("/readyz").json() == {"status": "ready"}


def test_readyz_is_503_when_the_database_does_not_answer_in_time() -> None:
    """A server that accepts connections and never answers (a listening socket nobody
    serves): readiness answers 503 within the connect timeout instead of hanging."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        settings = Settings(
            database_url=f"postgresql://nobody@127.0.0.1:{port}/silent",
            hotdeals_connect_timeout_s=2,
        )
        with TestClient(create_app(settings)) as client:
            ready = client.get("/readyz")
    assert ready.status_code == 503
    detail = ready.json()["detail"]
    assert "did not answer within 2 s" in detail or "timeout" in detail
