"""``deploy/cluster.sh`` from the tests: the several-machine deployment on loopback, in a
directory of its own, destroyed whatever happens.

The script needs root (it runs PostgreSQL's tools and PgBouncer as ``postgres``, and installs
the Debian packages when they are missing). Without root and without the packages the cluster
cannot run: a developer's machine skips, CI (``CI=true``) fails, as for every other service.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.server import ADMIN_TOKEN, GENEROUS_RATE_LIMITS, HOTDEALS

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "cluster.sh"
# What the script needs, and the Debian package that brings it.
TOOLS = {
    "/usr/bin/pg_autoctl": "postgresql-15-auto-failover",
    "/usr/sbin/pgbouncer": "pgbouncer",
    "/usr/sbin/haproxy": "haproxy",
}
# The ports the script uses, as offsets from its base port (deploy/cluster.sh, "ports").
PORT_OFFSETS = (0, 1, 2, 5, 11, 12, 21, 22, 30)
START_TIMEOUT = 240.0  # seconds for `start` (each of its own waits has a 120 s deadline)
STOP_TIMEOUT = 150.0  # seconds for `destroy` (30 s per process group at most)
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_cluster() -> None:
    """Skip locally, fail in CI, when the cluster cannot run on this machine."""
    missing = [package for path, package in TOOLS.items() if not Path(path).exists()]
    reason = None
    if os.geteuid() != 0:
        reason = "deploy/cluster.sh runs as root (PostgreSQL's tools then run as postgres)"
        if missing:
            reason += f"; missing Debian packages: {' '.join(missing)}"
    if reason is None:
        return  # as root the script installs whatever is missing
    if IN_CI:
        pytest.fail(f"{reason} (required with CI=true)", pytrace=False)
    pytest.skip(reason)


def free_base_port(attempts: int = 50) -> int:
    """A base port whose every port of the cluster is free on 127.0.0.1 now, below the
    ephemeral range: the cluster's own outgoing connections (poolers, router checks) take
    ephemeral ports, and one could take a port the script binds seconds later."""
    for _ in range(attempts):
        base = random.randrange(10_000, _ephemeral_start() - 100, 100)
        if all(_bindable(base + offset) for offset in PORT_OFFSETS):
            return base
    raise RuntimeError(f"no free range of cluster ports found in {attempts} attempts")


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def read_env(path: Path) -> dict[str, str]:
    """``cluster.env``: NAME=value lines, values maybe in single or double quotes."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        name, equals, value = line.partition("=")
        if not equals or line.startswith("#"):
            continue
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values


@dataclass
class Cluster:
    """A running cluster: its directory and what ``start`` wrote in ``cluster.env``."""

    directory: Path
    env: dict[str, str]
    started_in_s: float

    @classmethod
    def start(cls) -> Cluster:
        """Start one in a new directory under /tmp (pytest's tmp_path is private to root, and
        the postgres user must reach it); on failure everything is stopped and removed."""
        directory = Path(tempfile.mkdtemp(prefix="hotdeals-cluster-", dir="/tmp"))
        started = time.monotonic()
        try:
            done = run_script("start", directory, timeout=START_TIMEOUT)
            if done.returncode != 0:
                raise RuntimeError(
                    f"deploy/cluster.sh start failed ({done.returncode}):\n{done.stderr[-4000:]}"
                )
            return cls(directory, read_env(directory / "cluster.env"), time.monotonic() - started)
        except BaseException:
            destroy(directory)
            raise

    @property
    def lb_url(self) -> str:
        return self.env["LB_URL"]

    @property
    def direct_url(self) -> str:
        """Straight to whichever node takes writes (migrations, db-check, the checks here)."""
        return self.env["DIRECT_DATABASE_URL"]

    @property
    def app_ports(self) -> list[int]:
        return [int(port) for port in self.env["APP_PORTS"].split()]

    def node_port(self, node: str) -> int:
        return int(self.env[f"{node.upper()}_PORT"])

    def run(self, command: str, *arguments: str, timeout: float = 150.0) -> str:
        """One command of the script; its standard output, or an error with its stderr."""
        done = run_script(command, self.directory, *arguments, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"deploy/cluster.sh {command} failed: {done.stderr[-3000:]}")
        return done.stdout.strip()

    def log_tail(self, name: str, characters: int = 3000) -> str:
        try:
            return (self.directory / "log" / f"{name}.log").read_text(errors="replace")[
                -characters:
            ]
        except OSError as exc:
            return f"(no log: {exc})"

    def destroy(self) -> None:
        destroy(self.directory)


def run_script(
    command: str, directory: Path, *extra: str, timeout: float
) -> subprocess.CompletedProcess[str]:
    """The script as an operator runs it, with the test servers' settings: generous rate
    limits, the suite's admin token, a free range of ports. The replicas it starts are not
    measured by coverage: the test asserts a time bound, and traced servers run ~2-3x slower."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_PROCESS_")}
    env.update(GENEROUS_RATE_LIMITS)
    env["HOTDEALS_ADMIN_TOKEN"] = ADMIN_TOKEN
    env["HOTDEALS_BIN"] = str(HOTDEALS)
    if command == "start":  # the other commands read the ports from cluster.env
        env.setdefault("HOTDEALS_CLUSTER_BASE_PORT", str(free_base_port()))
    return subprocess.run(
        ["bash", str(SCRIPT), command, str(directory), *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def destroy(directory: Path) -> None:
    """Stop every process of the cluster in ``directory`` and delete it (bounded)."""
    try:
        run_script("destroy", directory, timeout=STOP_TIMEOUT)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
