"""Nothing acknowledged is lost, nothing is counted twice, under concurrent load.

:func:`check` starts ``hotdeals serve`` on an empty migrated PostgreSQL database, sends ranks
from concurrent clients with a click on a random half of the returned impressions, then checks
that every 2xx is counted exactly once in the counters and in the log, that ``hotdeals db-check``
passes and that no request got a 5xx. The end-to-end tests run it small; ``bench.concurrency_check``
runs it at full size.
"""

from __future__ import annotations

import json
import time

from sqlalchemy import func, select

from hotdeals.db.engine import make_engine
from hotdeals.db.models import Transaction
from tests.support.loadgen import bandit_totals, run_coroutine, seed_project, shop
from tests.support.postgres import migrated_postgres
from tests.support.server import ServerProcess, run_db_check


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
        tally = run_coroutine(
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
