"""Limits at the door, against the real ``hotdeals serve``: head size and field count, slow heads
and bodies, idle keep-alive, the connection cap, and aborted connections that log nothing."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from pathlib import Path

import httpx
import pytest

from tests.support.loadgen import seed_project
from tests.support.server import ServerProcess, admin_headers

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

DOOR = {
    "HOTDEALS_HEADER_TIMEOUT_S": "2",
    "HOTDEALS_BODY_TIMEOUT_S": "1",
    "HOTDEALS_KEEPALIVE_TIMEOUT_S": "1",
    "HOTDEALS_MAX_CONNECTIONS": "400",
}
MARGIN_S = 3.0  # on top of a configured timeout, for a loaded 2-core machine


@pytest.fixture(scope="module")
def server(postgres_url: str) -> Iterator[ServerProcess]:
    with ServerProcess(postgres_url, workers=1, extra_env=DOOR) as running:
        yield running


def connect(server: ServerProcess, timeout: float = 10.0) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    return conn


def read_all(conn: socket.socket) -> bytes:
    """Everything the server sends until it closes (bounded by the socket's timeout)."""
    chunks = []
    try:
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def worker_rss_kb(server: ServerProcess) -> int:
    assert server.process is not None
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def send_head(server: ServerProcess, head: bytes) -> bytes:
    with connect(server) as conn:
        # Refused before the client finished: the answer is still readable.
        with suppress(BrokenPipeError, ConnectionResetError):
            conn.sendall(head)
        return read_all(conn)


def test_a_one_megabyte_header_is_refused_with_bounded_memory(server: ServerProcess) -> None:
    before = worker_rss_kb(server)
    big = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 1_048_576 + b"\r\n\r\n"
    answers = [send_head(server, big) for _ in range(20)]
    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    # Unbounded, 20 heads of 1 MB would have been buffered whole (and kept by the allocator).
    assert worker_rss_kb(server) - before < 16_384
    assert httpx.get(f"{server.base_url}/healthz", timeout=10).status_code == 200


def test_too_many_header_fields_are_refused(server: ServerProcess) -> None:
    fields = b"".join(b"X-F%d: v\r\n" % i for i in range(150))
    answer = send_head(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    body = answer.split(b"\r\n\r\n", 1)[1]
    assert json.loads(body) == {"detail": "request header fields too large"}


def test_two_hundred_slow_heads_neither_block_others_nor_stay_forever(
    server: ServerProcess,
) -> None:
    with ExitStack() as stack:
        slow = [stack.enter_context(connect(server)) for _ in range(200)]
        for conn in slow:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHo")  # and then one byte now and then
        started = time.monotonic()
        answer = httpx.get(f"{server.base_url}/healthz", timeout=5)
        assert answer.status_code == 200
        assert time.monotonic() - started < 2.0
        for conn in slow:
            conn.sendall(b"s")
        # Each slow head is closed HOTDEALS_HEADER_TIMEOUT_S after it began, without an answer.
        for conn in slow:
            conn.settimeout(2 + MARGIN_S)
            assert read_all(conn) == b""
        assert time.monotonic() - started < 2 + 2 * MARGIN_S


def test_a_slow_body_gets_408_after_the_body_timeout(server: ServerProcess) -> None:
    with connect(server) as conn:
        conn.sendall(
            b"POST /api/projects/1/rank HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
        started = time.monotonic()
        answer = read_all(conn)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert time.monotonic() - started < 1 + MARGIN_S


def test_an_idle_keep_alive_connection_is_closed(server: ServerProcess) -> None:
    with connect(server) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.monotonic()
        answer = read_all(conn)  # the answer, then the close after the keep-alive timeout
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert time.monotonic() - started < 1 + MARGIN_S


def test_aborted_pipelined_connections_log_no_traceback(server: ServerProcess) -> None:
    project_id, _, _ = seed_project(server.base_url, ["A", "B", "C"], customers=5)
    body = json.dumps({"visitor_id": "v-pipelined"}).encode()  # a page's rank: open
    request = (
        f"POST /api/projects/{project_id}/rank HTTP/1.1\r\nHost: x\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    before = server.log.read_bytes()
    for _ in range(50):
        with connect(server) as conn:
            conn.sendall(request + request)  # two pipelined requests, then gone
    # The server answers others afterwards, and only then is the log read.
    assert httpx.get(f"{server.base_url}/healthz", timeout=10).status_code == 200
    added = server.log.read_bytes()[len(before) :]
    assert b"Traceback" not in added, added[:3000]
    assert added.count(b"\n") <= 50
    assert len(added) <= 50 * 300


def test_connections_beyond_the_cap_get_503(postgres_url: str) -> None:
    with ServerProcess(postgres_url, extra_env={"HOTDEALS_MAX_CONNECTIONS": "10"}) as capped:
        with ExitStack() as stack:
            for _ in range(10):
                stack.enter_context(connect(capped)).sendall(b"GET /healthz HTTP/1.1\r\nHo")
            answer = httpx.get(f"{capped.base_url}/healthz", timeout=10)
            assert answer.status_code == 503
        assert httpx.get(f"{capped.base_url}/healthz", timeout=10).status_code == 200


def test_metrics_are_summed_over_two_workers(postgres_url: str) -> None:
    with ServerProcess(postgres_url, workers=2) as two:
        with httpx.Client(base_url=two.base_url, timeout=10) as client:
            for _ in range(40):
                assert client.get("/healthz").status_code == 200
        healthz = 'hotdeals_http_requests_total{method="GET",route="/healthz",status="200"}'
        pids = set()
        for _ in range(6):  # new connections: either worker may answer
            text = httpx.get(f"{two.base_url}/metrics", headers=admin_headers(), timeout=10).text
            counted = [line for line in text.splitlines() if line.startswith(healthz)]
            assert counted, text[:2000]
            assert float(counted[0].split()[-1]) >= 40, counted
            pids.update(re.findall(r'hotdeals_writer_jobs_total\{pid="(\d+)"\}', text))
        assert pids  # the answering worker's own readings, labelled
