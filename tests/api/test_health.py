"""Liveness and readiness of the real app."""

from __future__ import annotations

from fastapi.testclient import TestClient

from hotdeals.api.app import create_app
from hotdeals.config import Settings


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
