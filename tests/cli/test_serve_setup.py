"""What ``hotdeals serve`` sets up before its workers start: secrets they share, a tuned heap."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotdeals.app import create_app
from hotdeals.cli import server
from hotdeals.config import Settings, get_settings


@pytest.fixture
def no_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)  # no .env file around
    monkeypatch.delenv("HOTDEALS_ADMIN_TOKEN", raising=False)
    monkeypatch.delenv("HOTDEALS_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_serve_generates_one_secret_key_for_all_its_workers(
    no_secrets: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.ensure_secrets()
    key = os.environ["HOTDEALS_SECRET_KEY"]  # what every worker process inherits
    assert len(key) >= 32
    assert os.environ["HOTDEALS_ADMIN_TOKEN"] != key
    first = create_app().state.hotdeals.secret_key
    second = create_app().state.hotdeals.secret_key
    assert first == second == key.encode()


def test_a_configured_secret_key_is_kept(no_secrets: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTDEALS_SECRET_KEY", "k" * 40)
    server.ensure_secrets()
    assert create_app().state.hotdeals.secret_key == b"k" * 40


def test_only_serve_tunes_the_garbage_collector() -> None:
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    create_app(Settings(database_url="sqlite://"))
    assert gc.get_threshold() == threshold
    assert gc.get_freeze_count() == frozen
    try:
        server.calm_the_garbage_collector()
        assert gc.get_threshold()[0] > threshold[0]
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
