"""The real app over HTTP (Starlette's TestClient) on each backend's test database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hotdeals.app import create_app


@pytest.fixture
def client(configured: str) -> Iterator[TestClient]:
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client
