"""The stall acceptance at full length: ``LOCK TABLE bandits IN ACCESS EXCLUSIVE MODE`` held for
``--stall`` seconds (30 by default, the issue's figure) under 16 clients against
``hotdeals serve --workers 1`` on a throwaway PostgreSQL database.

Prints one JSON line (answers by phase and status, the slowest answer, /readyz by phase) and
exits 1 naming what failed: an answer later than the deadline + 1 s (as this client measures
it), a status other than 200 or 503, a 503 without Retry-After, /readyz not 503 during or not
200 after, a server that exited or logged a traceback, an acknowledged event missing from the
log, or db-check. ``tests/e2e/test_stall.py`` runs this command with a 12 s stall.

    .venv/bin/python -m bench.stall_check [--stall 30] [--clients 16]
"""

from __future__ import annotations

import argparse
import json
import sys

from tests.support.loadgen import run_coroutine, seed_project
from tests.support.postgres import migrated_postgres
from tests.support.server import ServerProcess
from tests.support.stall import figures, problems, stall_under_load


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stall", type=float, default=30.0, help="seconds the lock is held")
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    with (
        migrated_postgres() as url,
        ServerProcess(url, workers=1) as server,  # rate limits out of reach, as every test server
    ):
        project_id, _, customers = seed_project(server.base_url, [f"Deal {i}" for i in range(4)])
        run = run_coroutine(
            stall_under_load(
                server, url, project_id, customers, stall=args.stall, clients=args.clients
            )
        )
        found = problems(run, server, url)
    print(json.dumps({"stall_s": args.stall, **figures(run), "problems": found}))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
