"""Whole-log commands at a supermarket's size: time and peak memory of exports and replay.

Loads ``--rows`` impressions into a throwaway PostgreSQL database (:mod:`bench.data_load`), or
reuses a loaded one (``--url`` and ``--project``), then runs each command in a process of its
own and reports its wall time, its CPU time (the client's alone: the server's is not in it) and
its peak RSS (the child's own ``ru_maxrss``, from ``wait4``):

- ``csv``: ``hotdeals export P --out log.csv``;
- ``parquet``: ``hotdeals export P --out log.parquet``;
- ``stream``: the API's streamed ``transactions.csv`` body, read to its end in process (no HTTP);
- ``replay``: ``hotdeals replay --from-db P --json`` (Thompson sampling);
- ``db-check``: ``hotdeals db-check`` (read only).

``--src DIR`` runs another checkout's ``src`` (``PYTHONPATH``) to compare before and after.
Prints one JSON line, also written to ``bench/results/``::

    .venv/bin/python -m bench.export_bench --rows 1000000
    .venv/bin/python -m bench.export_bench --url postgresql://postgres@127.0.0.1/db --project 1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path

from bench.data_load import load_transactions
from tests.support.postgres import migrated_postgres

RESULTS = Path(__file__).with_name("results")
OPERATIONS = ("csv", "parquet", "stream", "replay", "db-check")
# The API's body, consumed as the server would send it, without the HTTP around it.
_STREAM = (
    "import sys; from hotdeals.db.engine import make_engine; "
    "from hotdeals.services.export import csv_stream; "
    "e = make_engine(sys.argv[1]); n = sum(len(c) for c in csv_stream(e, int(sys.argv[2]))); "
    "print(n)"
)


def command(operation: str, url: str, project_id: int, folder: Path) -> list[str]:
    """The argv of one measured run."""
    cli = [sys.executable, "-c", "from hotdeals.cli import app; app()"]
    project = str(project_id)
    return {
        "csv": [*cli, "export", project, "--out", str(folder / "log.csv")],
        "parquet": [*cli, "export", project, "--out", str(folder / "log.parquet")],
        "stream": [sys.executable, "-c", _STREAM, url, project],
        "replay": [*cli, "replay", "--from-db", project, "--json"],
        "db-check": [*cli, "db-check"],
    }[operation]


def measure(argv: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run ``argv`` to its end: seconds, peak RSS in MiB (``wait4``: this child's alone)."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"{argv[3:]} exited {child.returncode}: {errors.read()[-2000:]!r}")
    return {
        "seconds": round(seconds, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="impressions to load")
    parser.add_argument("--url", help="a loaded database instead of a throwaway one")
    parser.add_argument("--project", type=int, help="the loaded campaign, with --url")
    parser.add_argument("--ops", default="csv,parquet,stream,replay", help=", ".join(OPERATIONS))
    parser.add_argument("--src", type=Path, help="run this source tree (PYTHONPATH)")
    args = parser.parse_args(argv)
    operations = [op for op in args.ops.split(",") if op]
    if unknown := set(operations) - set(OPERATIONS):
        parser.error(f"unknown --ops {sorted(unknown)}")
    if (args.url is None) != (args.project is None):
        parser.error("give --url and --project together")
    report: dict[str, object] = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    with ExitStack() as stack:
        url, project_id = args.url, args.project
        if url is None:
            url = stack.enter_context(migrated_postgres())
            loaded = load_transactions(url, args.rows)
            project_id = loaded.project_id
            report["load"] = asdict(loaded)
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="export-bench-")))
        env = {**os.environ, "DATABASE_URL": url}
        if args.src is not None:
            env["PYTHONPATH"] = str(args.src.resolve())
        report["src"] = str(args.src or "this checkout")
        for operation in operations:
            report[operation] = measure(command(operation, url, project_id, folder), env)
            for file in folder.iterdir():
                report[operation]["mib"] = round(file.stat().st_size / 2**20, 1)  # type: ignore[index]
                file.unlink()
    line = json.dumps(report, sort_keys=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"export-bench-{report['when']}.json").write_text(line + "\n")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
