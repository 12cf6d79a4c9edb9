"""``hotdeals serve`` in its own process, exactly as an operator starts it, and its CLI siblings.

Every wait here has a deadline: a server that never becomes ready fails with a
:class:`TimeoutError` naming the URL it polled and the tail of the server's log, instead of
hanging the test run.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from hotdeals.client.client import POOL_LIMITS

ADMIN_TOKEN = "bench-admin-token"
HOTDEALS = Path(sys.executable).with_name("hotdeals")
READY_TIMEOUT = 60.0  # seconds for a fresh server to answer /readyz (migrations already ran)
STOP_TIMEOUT = 30.0  # seconds for SIGTERM (then SIGKILL) to end the process group


# Load from one address (wrk, the load generator, a test's client) is not abuse: servers started
# here, the benchmarks' and the end-to-end tests', and the TestClient apps of the test suite
# get limits no run reaches, so they measure and test the service, not the limiter. The
# rate-limit tests set their own.
GENEROUS_RATE_LIMITS = {
    f"HOTDEALS_RATE_LIMIT_{name}": "1000000/second"
    for name in (
        "RANK_PER_IP",
        "RANK_PER_CUSTOMER",
        "CLICK_PER_IP",
        "CLICK_PER_CUSTOMER",
        "SIGNIN_PER_IP",
        "GUEST_PER_IP",
        "VISITOR_PER_IP",
        "ADMIN_FAILURES_PER_IP",
    )
}


def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def api_client(base_url: str, *, timeout: float = 30) -> httpx.Client:
    """An admin's client for a test server that, like ours, never reuses a connection the
    server may be closing for idleness (a shared client can sit idle for the browser's steps)."""
    return httpx.Client(
        base_url=base_url, headers=admin_headers(), timeout=timeout, limits=POOL_LIMITS
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServerProcess:
    """``hotdeals serve`` on a free port of 127.0.0.1, ready when the context is entered."""

    def __init__(
        self,
        database_url: str,
        *,
        workers: int = 1,
        extra_env: dict[str, str] | None = None,
        measured: bool = True,
    ) -> None:
        """``measured=False`` keeps coverage out of the server (the suite measures the servers
        it starts, which slows them ~2-3x): for tests that assert a time bound."""
        self.database_url = database_url
        self.workers = workers
        self.measured = measured
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.log = Path(os.environ.get("TMPDIR", "/tmp")) / f"hotdeals-server-{self.port}.log"

    def start(self, timeout: float = READY_TIMEOUT) -> None:
        """Start the server and wait until it is ready; on failure nothing is left running."""
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "HOTDEALS_ADMIN_TOKEN": ADMIN_TOKEN,
            **GENEROUS_RATE_LIMITS,
            **self.extra_env,
        }
        if not self.measured:
            for name in ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START"):
                env.pop(name, None)
        command = [str(HOTDEALS), "serve", "--port", str(self.port), "--workers", str(self.workers)]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def wait_ready(self, timeout: float) -> None:
        """Poll /readyz until it answers 200, for at most ``timeout`` seconds.

        Raises :class:`RuntimeError` if the process exits first and :class:`TimeoutError` at the
        deadline, each with the last answer and the tail of the server's log.
        """
        url = f"{self.base_url}/readyz"
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"hotdeals serve exited with code {self.process.returncode} before {url}"
                    f" answered 200 (last: {last}); server log {self.log}:\n{self.log_tail()}"
                )
            try:
                response = httpx.get(url, timeout=2)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code} {response.text[:200]}"
            time.sleep(0.1)  # polling interval of a readiness probe, not synchronisation
        raise TimeoutError(
            f"hotdeals serve did not answer 200 on {url} within {timeout:g} s"
            f" (last: {last}); server log {self.log}:\n{self.log_tail()}"
        )

    def log_tail(self, characters: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-characters:]
        except OSError as exc:
            return f"(cannot read the log: {exc})"

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown hooks, no flushing, like a power cut."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def run_db_check(database_url: str, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
    """``hotdeals db-check`` against ``database_url`` as a separate process (bounded)."""
    return subprocess.run(
        [str(HOTDEALS), "db-check"],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
