"""Helpers for API tests: the admin header and quick ways to create customers and projects."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

ADMIN = {"Authorization": "Bearer test-admin-token"}


def make_user(client: TestClient, email: str = "ann@example.com", name: str = "Ann") -> int:
    response = client.post("/api/users", json={"email": email, "name": name}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return int(response.json()["customer_id"])


def make_project(client: TestClient, deals: int = 4, **fields: Any) -> dict[str, Any]:
    body = {
        "project_name": "Hot Deals, week 48",
        "bandits": [{"bandit_name": f"Deal {i}", "price": "1.99"} for i in range(deals)],
        **fields,
    }
    response = client.post("/api/projects", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    project: dict[str, Any] = response.json()
    return project
