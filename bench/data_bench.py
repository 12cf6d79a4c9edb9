"""A year of data on one machine: analytics, audits and exports at 1M and 10M transactions.

For each size, a throwaway PostgreSQL database is loaded with a realistic log
(:mod:`bench.data_load`: 6 deals, 30 days, 3% clicks, purchases), then measured:

- ``hotdeals db-check --repair`` and ``hotdeals db-check``: seconds and peak RSS (the log is read
  once for check and repair together);
- against a real ``hotdeals serve``: ``/stats``, ``/timeseries?bucket=hour`` and ``day``, the
  dashboard's ``data.json`` refresh and its page, median and worst of ``REPEATS`` requests after
  a warm-up;
- ``hotdeals export`` to CSV and to Parquet: seconds and peak RSS;
- with ``--deals-case``, a campaign of 1,000 deals (1M impressions): the same figures.

Prints one JSON line with every figure and the 10M / 1M ratios, also written to
``bench/results/``. Not part of CI or ``make bench``: ``make bench-data`` (10M takes minutes).

    .venv/bin/python -m bench.data_bench [--rows 1000000,10000000] [--deals-case]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx

from bench.data_load import load_transactions
from tests.support.postgres import migrated_postgres
from tests.support.server import ADMIN_TOKEN, GENEROUS_RATE_LIMITS, ServerProcess

HERE = Path(__file__).parent
RESULTS = HERE / "results"
REPEATS = 10
HOTDEALS = str(Path(sys.executable).with_name("hotdeals"))


def timed_command(args: list[str], url: str) -> dict[str, float]:
    """Seconds and peak RSS (MiB) of one ``hotdeals`` command, by GNU time."""
    env = {**os.environ, "DATABASE_URL": url}
    started = time.perf_counter()
    result = subprocess.run(
        ["/usr/bin/time", "-v", HOTDEALS, *args], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"hotdeals {' '.join(args)} failed: {result.stderr[-2000:]}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    return {"s": round(seconds, 2), "peak_mib": round(int(peak.group(1)) / 1024, 1) if peak else -1}


def signed_in(base: str) -> httpx.Client:
    """An analyst's browser session on the dashboard (the data feed needs one)."""
    client = httpx.Client(base_url=base, timeout=120)
    page = client.get("/admin").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None, "no sign-in form"
    client.post("/admin/login", data={"csrf": csrf.group(1), "token": ADMIN_TOKEN})
    return client


def latency(
    client: httpx.Client, path: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """Median and worst milliseconds of ``REPEATS`` GETs after two unmeasured ones."""
    for _ in range(2):
        client.get(path, headers=headers).raise_for_status()
    times = []
    size = 0
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        size = len(response.content)
    return {
        "median_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
        "bytes": size,
    }


def endpoints(base: str, project_id: int) -> dict[str, Any]:
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    figures: dict[str, Any] = {}
    with httpx.Client(base_url=base, timeout=120) as api:
        figures["stats"] = latency(api, f"/api/projects/{project_id}/stats", admin)
        for bucket in ("hour", "day"):
            path = f"/api/projects/{project_id}/timeseries?bucket={bucket}"
            figures[f"timeseries_{bucket}"] = latency(api, path, admin)
    page = signed_in(base)
    try:
        figures["data_json"] = latency(page, f"/admin/projects/{project_id}/data.json")
        figures["page"] = latency(page, f"/admin/projects/{project_id}")
    finally:
        page.close()
    return figures


def one_size(rows: int, deals: int = 6) -> dict[str, Any]:
    with migrated_postgres() as url, tempfile.TemporaryDirectory() as scratch:
        loaded = load_transactions(url, rows, deals=deals)
        report: dict[str, Any] = {"rows": rows, "deals": deals, "load": asdict(loaded)}
        project_id = loaded.project_id
        report["db_check_repair"] = timed_command(["db-check", "--repair"], url)
        report["db_check"] = timed_command(["db-check"], url)
        with ServerProcess(url, workers=1, extra_env=GENEROUS_RATE_LIMITS) as server:
            report |= endpoints(server.base_url, project_id)
        for suffix in ("csv", "parquet"):
            target = str(Path(scratch) / f"log.{suffix}")
            command = ["export", str(project_id), "--out", target]
            report[f"export_{suffix}"] = timed_command(command, url)
        return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000000,10000000")
    parser.add_argument("--deals-case", action="store_true", help="also 1,000 deals x 1M rows")
    args = parser.parse_args()
    sizes = [int(r) for r in args.rows.split(",")]
    report: dict[str, Any] = {"sizes": {str(n): one_size(n) for n in sizes}}
    if len(sizes) >= 2:
        small, big = report["sizes"][str(sizes[0])], report["sizes"][str(sizes[-1])]
        report["ratios"] = {
            name: round(big[name]["median_ms"] / small[name]["median_ms"], 2)
            for name in ("stats", "timeseries_hour", "timeseries_day", "data_json")
        }
    if args.deals_case:
        report["thousand_deals"] = one_size(1_000_000, deals=1_000)
    report["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    line = json.dumps(report, sort_keys=True, default=str)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"data-{report['when']}.json").write_text(line + "\n")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
