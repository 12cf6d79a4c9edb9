"""Cross-cutting promises of the HTTP contract: limits, error shape, OpenAPI documentation."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import ADMIN, post_project, post_user


def test_an_oversized_body_is_413_with_a_json_detail(client: TestClient) -> None:
    response = client.post(
        "/api/projects/1/rank",
        content=b'{"customer_id": 1, "pad": "' + b"x" * 70_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert "larger than 65536 bytes" in response.json()["detail"]


def test_an_oversized_chunked_body_is_413_too(client: TestClient) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"x" * 2048

    response = client.post(
        "/api/projects/1/rank", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_malformed_json_is_422(client: TestClient) -> None:
    response = client.post(
        "/api/projects/1/rank", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_a_body_that_is_not_utf8_is_422(client: TestClient) -> None:
    headers = {"content-type": "application/json", **ADMIN}
    response = client.post("/api/users", content=b"\xff\xfe{", headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "the body is not UTF-8 JSON"
    # The hot routes parse their bodies in one pydantic call: the same 422, worded by pydantic.
    for path in ("/api/projects/1/rank", "/api/clicks"):
        hot = client.post(path, content=b"\xff\xfe{", headers=headers)
        assert hot.status_code == 422
        assert hot.json()["detail"][0]["type"] == "json_invalid"
        assert hot.json()["detail"][0]["loc"] == ["body"]


def test_an_unknown_query_parameter_is_422_naming_it(client: TestClient) -> None:
    response = client.get("/api/users?limt=10", headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limt"]


def test_rank_and_click_are_open_and_carry_no_personal_data(client: TestClient) -> None:
    """A page's calls need no token and show nothing personal: not the customer's data (the
    backend's rank by customer id), and not the visitor's id in the row's placeholders."""
    customer = post_user(client, "secret@example.com", "Secret Name")
    pid = post_project(client)["project_id"]
    url = f"/api/projects/{pid}/rank"
    by_customer = client.post(url, json={"customer_id": customer}, headers=ADMIN)
    by_visitor = client.post(url, json={"visitor_id": "v-secret-visitor"})
    click = client.post("/api/clicks", json={"token": by_visitor.json()["deals"][0]["click_token"]})
    for response in (by_customer, by_visitor, click):
        assert response.status_code == 200, response.text
        assert "secret@" not in response.text.lower()
        assert "secret name" not in response.text.lower()
    assert "v-secret-visitor" not in click.text
    assert by_customer.json()["customer_id"] == customer
    assert by_visitor.json()["customer_id"] is None  # the visitor's row id never leaves


def test_every_operation_is_documented(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operations = [
        (path, method, op) for path, item in spec["paths"].items() for method, op in item.items()
    ]
    assert len(operations) >= 16
    for path, method, op in operations:
        assert op.get("summary"), f"{method} {path} has no summary"
        codes = set(op["responses"])
        if path.startswith("/api/"):
            assert "422" in codes, f"{method} {path} does not document 422"
            for code in codes - {"200", "201", "422"}:
                schema = op["responses"][code]["content"]["application/json"]["schema"]
                assert schema["required"] == ["detail"]
    assert client.get("/docs").status_code == 200
