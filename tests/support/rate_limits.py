"""Apps with small rate limits for the rate-limit tests, on memory or on the real Redis.

Each Redis-backed app gets a key prefix of its own (``hotdeals-test-<random>``), so concurrent
runs never share counters, and :func:`limited_client` deletes its keys afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from fastapi.testclient import TestClient

from hotdeals.app import create_app
from hotdeals.config import get_settings
from hotdeals.http.rate_limit import RateLimits

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_reachable() -> str | None:
    """None when Redis answers PING, else why not."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        return f"no Redis at {REDIS_URL}: {exc}"
    return None


def redis_keys(prefix: str) -> list[bytes]:
    client = redis.Redis.from_url(REDIS_URL)
    return list(client.scan_iter(match=f"{prefix}:*"))


@contextmanager
def limited_client(
    monkeypatch: pytest.MonkeyPatch, storage: str, **limits: str
) -> Iterator[TestClient]:
    """The app with these limits (``rank_per_ip="5/minute"``, ...) on ``memory`` or ``redis``."""
    prefix = f"hotdeals-test-{uuid.uuid4().hex[:12]}"
    for name, value in limits.items():
        monkeypatch.setenv(f"HOTDEALS_RATE_LIMIT_{name.upper()}", value)
    monkeypatch.setenv(
        "HOTDEALS_RATE_LIMIT_STORAGE", REDIS_URL if storage == "redis" else "memory://"
    )
    monkeypatch.setenv("HOTDEALS_RATE_LIMIT_KEY_PREFIX", prefix)
    get_settings.cache_clear()
    app = create_app()
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client
            limiter: RateLimits | None = getattr(app.state, "rate_limits", None)
            if limiter is not None and storage == "redis":
                assert redis_keys(prefix), "the Redis storage was not used"
                client.portal.call(limiter.reset)
                client.portal.call(limiter.close)
    finally:
        if storage == "redis":
            leftover = redis_keys(prefix)
            if leftover:
                redis.Redis.from_url(REDIS_URL).delete(*leftover)
        get_settings.cache_clear()
