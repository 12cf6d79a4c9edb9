"""Nothing acknowledged is lost, nothing is counted twice, under concurrent load.

Starts ``hotdeals serve --workers 2`` on a fresh PostgreSQL database, runs 5,000 ranks from 16
concurrent clients with a click on a random half of the returned impressions, then checks that
every 2xx is counted exactly once in the counters and in the log, that ``hotdeals db-check``
passes and that no request got a 5xx. Exits 1 on any discrepancy.

    .venv/bin/python -m bench.concurrency_check [--ranks 5000] [--clients 16] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from sqlalchemy import func, select

from bench.harness import ServerProcess, migrated_postgres, run_db_check
from bench.loadgen import bandit_totals, seed_project, shop
from hotdeals.db.engine import make_engine
from hotdeals.db.models import Transaction


def check(ranks: int, clients: int, workers: int, url: str | None = None) -> list[str]:
    """Run the load and return the discrepancies found (empty when all is well).

    ``url``: an empty migrated database to use; by default a throwaway one is made.
    """
    if url is None:
        with migrated_postgres() as fresh:
            return check(ranks, clients, workers, fresh)
    problems: list[str] = []
    with ServerProcess(url, workers=workers) as server:
        project_id, _, customers = seed_project(server.base_url, [f"Deal {i}" for i in range(6)])
        started = time.perf_counter()
        tally = asyncio.run(
            shop(
                server.base_url,
                project_id,
                customers,
                ranks=ranks,
                concurrency=clients,
                click=lambda rng, _bandit, _position: rng.random() < 0.5,
            )
        )
        elapsed = time.perf_counter() - started
        arms = bandit_totals(server.base_url, project_id)
        engine = make_engine(url)
        with engine.connect() as connection:
            logged = connection.scalar(select(func.count()).select_from(Transaction))
            clicked = connection.scalar(
                select(func.count()).select_from(Transaction).where(Transaction.clicked)
            )
            logged_ids = set(connection.scalars(select(Transaction.transaction_id)))
        engine.dispose()
        db_check = run_db_check(url)

    counted_n = sum(int(a["n"]) for a in arms.values())
    counted_clicks = sum(int(a["number_of_success"]) for a in arms.values())
    if tally.server_errors or tally.transport_errors:
        problems.append(f"{tally.server_errors} 5xx and {tally.transport_errors} transport errors")
    if tally.ranks_ok != ranks:
        problems.append(f"only {tally.ranks_ok} of {ranks} ranks answered 200: {tally.statuses}")
    if counted_n != tally.impressions_ok or logged != tally.impressions_ok:
        problems.append(
            f"impressions acknowledged {tally.impressions_ok}, counters {counted_n}, log {logged}"
        )
    if counted_clicks != tally.clicks_new or clicked != tally.clicks_new:
        problems.append(
            f"clicks acknowledged {tally.clicks_new}, counters {counted_clicks}, log {clicked}"
        )
    missing = {tid for tid, _ in tally.shown} - logged_ids
    if missing:
        problems.append(f"{len(missing)} acknowledged transaction ids are not in the log")
    if db_check.returncode != 0:
        problems.append(f"db-check failed: {db_check.stderr.strip()[:500]}")
    print(
        json.dumps(
            {
                "ranks": ranks,
                "clients": clients,
                "workers": workers,
                "ranks_ok": tally.ranks_ok,
                "impressions": tally.impressions_ok,
                "clicks": tally.clicks_new,
                "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
                "seconds": round(elapsed, 2),
                "requests_per_second": round((sum(tally.statuses.values())) / elapsed, 1),
                "discrepancies": problems,
            }
        )
    )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, default=5_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    problems = check(args.ranks, args.clients, args.workers)
    for problem in problems:
        print(f"DISCREPANCY: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
