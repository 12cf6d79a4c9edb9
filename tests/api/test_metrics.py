"""Request ids, structured logs and ``/metrics``, on the real app."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from fastapi.testclient import TestClient

from hotdeals.app import create_app
from hotdeals.config import get_settings
from hotdeals.http.request_log import REQUEST_ID, configure_logging
from tests.factories import ADMIN, post_project


def test_a_sane_request_id_is_echoed_and_an_insane_one_replaced(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123.def:4_5"})
    assert given.headers["x-request-id"] == "abc-123.def:4_5"
    for insane in ("x" * 65, "a b", "<script>", ""):
        answer = client.get("/healthz", headers={"X-Request-ID": insane})
        assert re.fullmatch(r"[0-9a-f]{16}", answer.headers["x-request-id"]), insane
    made = {client.get("/healthz").headers["x-request-id"] for _ in range(5)}
    assert len(made) == 5


def test_refusals_before_the_app_carry_an_id_too(client: TestClient) -> None:
    answer = client.post("/api/projects/1/rank", content=b"x" * 70_000)
    assert answer.status_code == 413
    assert "x-request-id" in answer.headers


def test_metrics_need_the_admin_token(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_metrics_count_requests_by_route_template_and_status(client: TestClient) -> None:
    project = post_project(client, ["A", "B"])
    pid = project["project_id"]
    for _ in range(3):
        ranked = client.post(f"/api/projects/{pid}/rank", json={"visitor_id": "v-metrics"})
        assert ranked.is_success
    token = ranked.json()["deals"][0]["click_token"]
    assert client.post("/api/clicks", json={"token": token}).is_success
    assert client.post("/api/clicks", json={"token": token[:-1]}).status_code == 400
    client.get("/no/such/page")
    text = client.get("/metrics", headers=ADMIN).text
    rank = (
        'hotdeals_http_requests_total{method="POST",route="/api/projects/{project_id}/rank",'
        'status="200"}'
    )
    assert re.search(re.escape(rank) + r" ([0-9.]+)", text)
    assert float(re.search(re.escape(rank) + r" ([0-9.]+)", text).group(1)) >= 3  # type: ignore[union-attr]
    for status in ("200", "400"):  # one template for every token
        clicks = (
            f'hotdeals_http_requests_total{{method="POST",route="/api/clicks",status="{status}"}}'
        )
        assert re.search(re.escape(clicks) + r" [1-9]", text), status
    assert 'route="unmatched",status="404"' in text
    assert "hotdeals_http_request_duration_seconds_bucket{" in text
    assert re.search(r'hotdeals_writer_batches_total\{pid="\d+"\} [1-9]', text)
    assert re.search(r'hotdeals_writer_jobs_total\{pid="\d+"\} [1-9]', text)
    assert "hotdeals_writer_queue_depth{" in text
    assert "hotdeals_db_pool_checked_out{" in text
    assert "# TYPE hotdeals_rate_limit_refusals_total counter" in text
    committed = re.search(r"hotdeals_writer_batch_size_count ([0-9.]+)", text)
    assert committed is not None
    assert float(committed.group(1)) >= 1  # the ranks above
    assert re.search(r'hotdeals_writer_commit_seconds_bucket\{le="\+Inf"\} [1-9]', text)


def test_metrics_can_be_public(configured: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTDEALS_METRICS_PUBLIC", "true")
    get_settings.cache_clear()
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_log_lines_carry_the_request_id(log_format: str) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogger("hotdeals").level)
    try:
        configure_logging(log_format)
        stream = io.StringIO()
        root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
        token = REQUEST_ID.set("req-42")
        try:
            logging.getLogger("hotdeals.test").warning("something %s", "odd")
        finally:
            REQUEST_ID.reset(token)
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("hotdeals.test").exception("failed")
    finally:
        root.handlers[:], level, own = saved
        root.setLevel(level)
        logging.getLogger("hotdeals").setLevel(own)
    first, *rest = stream.getvalue().splitlines()
    if log_format == "json":
        entry = json.loads(first)
        assert entry["message"] == "something odd"
        assert entry["request_id"] == "req-42"
        assert entry["level"] == "WARNING"
        assert entry["logger"] == "hotdeals.test"
        failure = json.loads(rest[0])
        assert failure["request_id"] == "-"
        assert "ValueError: boom" in failure["exception"]
    else:
        assert "[req-42] something odd" in first
        assert "WARNING hotdeals.test" in first
