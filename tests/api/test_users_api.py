"""POST/GET /api/users."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.factories import ADMIN, post_project, post_user, user_body


def test_create_and_get_a_customer(client: TestClient) -> None:
    customer_id = post_user(client, "Ann@Example.com", "Ann")
    response = client.get(f"/api/users/{customer_id}", headers=ADMIN)
    assert response.status_code == 200
    assert response.json() == {
        "customer_id": customer_id,
        "email": "ann@example.com",
        "name": "Ann",
    }


def test_duplicate_email_is_409(client: TestClient) -> None:
    post_user(client)
    response = client.post(
        "/api/users", json={"email": "ANN@example.com", "name": "Other"}, headers=ADMIN
    )
    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "name": "x"},
        {"email": "a@example.com"},
        {"email": "a@example.com", "name": ""},
        {"email": "a@example.com", "name": "x" * 201},
        {"email": "a@example.com", "name": "x", "admin": True},
    ],
)
def test_invalid_customer_is_422_naming_the_field(
    client: TestClient, body: dict[str, object]
) -> None:
    response = client.post("/api/users", json=body, headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"


def test_unknown_customer_is_404(client: TestClient) -> None:
    response = client.get("/api/users/12345", headers=ADMIN)
    assert response.status_code == 404
    assert response.json() == {"detail": "customer 12345 does not exist"}


def test_listing_is_paginated(client: TestClient) -> None:
    ids = [post_user(client, f"u{i}@example.com", f"U{i}") for i in range(5)]
    page = client.get("/api/users?limit=2&offset=1", headers=ADMIN).json()
    assert page["total"] == 5
    assert [u["customer_id"] for u in page["items"]] == ids[1:3]
    assert client.get("/api/users?limit=0", headers=ADMIN).status_code == 422
    assert client.get("/api/users?limit=501", headers=ADMIN).status_code == 422


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "x"}])
def test_management_needs_the_admin_token(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get("/api/users", headers=headers)
    assert response.status_code == 401
    assert "admin token" in response.json()["detail"]
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_visitors_row_is_listed_without_personal_data_and_its_email_cannot_sign_up(
    client: TestClient,
) -> None:
    """A page's visitor becomes a customer row whose placeholder email is in the reserved
    ``visitors.invalid`` domain, which creating a customer refuses: no one can claim it."""
    pid = post_project(client)["project_id"]
    assert client.post(f"/api/projects/{pid}/rank", json={"visitor_id": "v-ann"}).is_success
    (row,) = client.get("/api/users", headers=ADMIN).json()["items"]
    assert row["email"].endswith("@visitors.invalid")
    assert "v-ann" not in row["email"]
    assert row["name"] == "Visitor"
    claim = client.post("/api/users", json=user_body(row["email"], "Mallory"), headers=ADMIN)
    assert claim.status_code == 422
    assert claim.json()["detail"][0]["loc"] == ["body", "email"]
    assert client.get("/api/users", headers=ADMIN).json()["total"] == 1
