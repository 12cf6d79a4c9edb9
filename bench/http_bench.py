"""HTTP load benchmark: our rank and click against the same server's and PostgreSQL's ceilings.

Starts ``hotdeals serve --workers N`` on a fresh PostgreSQL database with the production
settings except the rate limits, which are set out of reach (``GENEROUS_RATE_LIMITS``: wrk sends
everything from one address for a few hundred visitors, which the default limits would refuse,
and the figures are the service's, not the limiter's refusals), and drives it with wrk exactly
as the strip drives it: ranks by ``visitor_id`` over a pool of ``VISITORS`` ids, each with a
fresh ``Idempotency-Key``, clicks by click token on ``POST /api/clicks`` and purchases by click
token on ``POST /api/purchases`` (every deal priced, each purchase worth ``PURCHASE_VALUE``).

A warm-up rank run (64 connections, twice ``--seconds``, not measured) creates the visitors' rows
(each worker then has them cached) and collects the click tokens of its answers; the measured
rank runs (16 and 64 connections) follow, then the click runs, each sending distinct tokens of
the warm-up's, then the purchase runs on the same tokens (a purchase of an impression not
clicked yet implies its click). In the same run it measures the server's ``/healthz`` ceiling
and the database's own ceiling with pgbench running the equivalent SQL (``bench/pgbench/``: the
impressions and the counters, without the Idempotency-Key's row), checks that the accounting is
exact (impressions logged = 3 x successful ranks, one stored key per successful rank, clicks logged
= successful first clicks, purchases logged = successful first purchases and their value exactly
``PURCHASE_VALUE`` each, each up to the requests wrk left in flight; ``db-check``), and prints
one JSON line with every figure, also written to ``bench/results/``.

    .venv/bin/python -m bench.http_bench [--workers 2] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from hotdeals.client import NewDeal
from hotdeals.db.counters import Impression, log_impressions
from hotdeals.db.engine import make_engine, make_session_factory
from hotdeals.db.models import Transaction
from tests.support.loadgen import seed_project
from tests.support.postgres import migrated_postgres
from tests.support.server import GENEROUS_RATE_LIMITS, ServerProcess, run_db_check

HERE = Path(__file__).parent
RESULTS = HERE / "results"
CONNECTIONS = (16, 64)
TARGETS = {"rank_rps": 2_300, "click_rps": 1_600, "p99_ms": 100.0}
CUSTOMERS = 100  # seeded customers: pgbench's ranks are theirs
VISITORS = 300  # the pages' visitor ids (rows made in the warm-up)
DEALS_SHOWN = 3  # k of every rank
WARMUP_CONNECTIONS = 64
# The warm-up runs this many times --seconds: clicks answer faster than ranks, and each click
# run needs a distinct token per request.
WARMUP_FACTOR = 2
PRICE = Decimal("2.49")  # every deal's: the open endpoint takes values up to price x quantity
PURCHASE_VALUE = Decimal("1.00")
RUNS = (
    "rank_warmup",
    "rank_c16",
    "rank_c64",
    "click_c16",
    "click_c64",
    "purchase_c16",
    "purchase_c64",
)


def wrk(
    url: str, connections: int, seconds: int, script: str | None = None, **env: str
) -> dict[str, Any]:
    """Run wrk and parse its figures (requests/s, p50/p99, non-2xx, socket errors); every run
    gets a NONCE of its own (rank.lua's Idempotency-Keys)."""
    env.setdefault("NONCE", f"{script or 'plain'}-c{connections}-{secrets.token_hex(4)}")
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        command += ["-s", str(HERE / "wrk" / script)]
    result = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, env={**os.environ, **env}
    )
    output = result.stdout
    figures: dict[str, Any] = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),  # type: ignore[union-attr]
    }
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    figures["socket_errors"] = sum(map(int, errors.groups())) if errors else 0
    line = re.search(r"^JSON (.*)$", output, re.M)
    if line:
        figures.update(json.loads(line.group(1)))
    else:  # the plain healthz run has no Lua script: read the percentiles wrk prints
        for name, pct in (("p50_ms", "50%"), ("p99_ms", "99%")):
            match = re.search(rf"{pct}\s+([\d.]+)(us|ms|s)", output)
            if match:
                scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]
                figures[name] = round(float(match.group(1)) * scale, 2)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        figures["non2xx"] = int(non2xx.group(1)) if non2xx else 0
    return figures


def pgbench(url: str, script: str, connections: int, seconds: int, **variables: int) -> float:
    """Transactions per second of the equivalent SQL, straight into PostgreSQL."""
    parsed = make_url(url)
    command = [
        "pgbench",
        "-n",
        f"-c{connections}",
        "-j2",
        f"-T{seconds}",
        "-f",
        str(HERE / "pgbench" / script),
        "-h",
        parsed.host or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or "postgres",
        *[f"-D{name}={value}" for name, value in variables.items()],
        parsed.database or "postgres",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(re.search(r"tps = ([\d.]+)", result.stdout).group(1))  # type: ignore[union-attr]


def count_rows(url: str) -> dict[str, int]:
    """Impressions, clicked impressions, stored Idempotency-Keys, visitors' rows, last id, and
    purchases (rows of the purchases table, the log's count and value in cents)."""
    engine = make_engine(url)
    with engine.connect() as connection:
        figures = {
            "impressions": connection.scalar(select(func.count()).select_from(Transaction)),
            "clicks": connection.scalar(
                select(func.count()).select_from(Transaction).where(Transaction.clicked)
            ),
            "keys": connection.scalar(text("SELECT count(*) FROM rank_requests")),
            "visitors": connection.scalar(
                text("SELECT count(*) FROM users WHERE visitor_id IS NOT NULL")
            ),
            "last_id": connection.scalar(select(func.max(Transaction.transaction_id))),
            "purchase_rows": connection.scalar(text("SELECT count(*) FROM purchases")),
            "purchases": connection.scalar(select(func.sum(Transaction.purchases))),
            "purchase_cents": connection.scalar(select(func.sum(Transaction.purchase_value) * 100)),
        }
    engine.dispose()
    return {name: int(value or 0) for name, value in figures.items()}


def add_unclicked_impressions(url: str, project_id: int, bandit_ids: list[int], count: int) -> None:
    """Fresh impressions for pgbench's clicks, through the same storage function the service
    uses."""
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    for start in range(0, count, 20_000):
        with sessions.begin() as session:
            log_impressions(
                session,
                [
                    Impression(1 + i % CUSTOMERS, project_id, bandit_ids[i % len(bandit_ids)], 1)
                    for i in range(start, min(count, start + 20_000))
                ],
            )
    engine.dispose()


def within(low: int, value: int, in_flight: int) -> bool:
    """``low <= value <= low + in_flight``: wrk stops counting with requests in flight, which
    the server still completes."""
    return low <= value <= low + in_flight


def rank_runs(
    base: str, project_id: int, seconds: int, tokens: Path, report: dict[str, Any]
) -> int:
    """The warm-up (collecting click tokens under ``tokens``) and the measured rank runs;
    returns the successful ranks of all of them."""
    env = {"PROJECT": str(project_id), "VISITORS": str(VISITORS)}
    warmup = wrk(
        base, WARMUP_CONNECTIONS, WARMUP_FACTOR * seconds, "rank.lua", TOKENS=str(tokens), **env
    )
    report["rank_warmup"] = warmup
    ranks_ok = int(warmup["requests"] - warmup["non2xx"])
    for c in CONNECTIONS:
        figures = wrk(base, c, seconds, "rank.lua", **env)
        report[f"rank_c{c}"] = figures
        ranks_ok += figures["requests"] - figures["non2xx"]
    return ranks_ok


def token_runs(
    kind: str, base: str, seconds: int, tokens: Path, report: dict[str, Any], **env: str
) -> int:
    """One run of ``kind`` (click or purchase) per connection count, each on its own share of
    the warm-up's tokens; returns the successful first clicks or purchases."""
    collected = [
        line
        for part in sorted(tokens.parent.glob(tokens.name + ".*"))
        for line in part.read_text().splitlines()
        if line
    ]
    report["tokens_collected"] = len(collected)
    if len(collected) < 2 * len(CONNECTIONS):
        raise SystemExit(f"the warm-up collected {len(collected)} click tokens; too few to use")
    share = len(collected) // len(CONNECTIONS)
    done = 0
    for index, c in enumerate(CONNECTIONS):
        mine = tokens.with_name(f"{kind}-c{c}.txt")
        mine.write_text("\n".join(collected[index * share : (index + 1) * share]) + "\n")
        figures = wrk(base, c, seconds, "click.lua", TOKENS=str(mine), THREADS="2", **env)
        report[f"{kind}_c{c}"] = figures
        done += figures["requests"] - figures["non2xx"] - figures["repeated_tokens"]
    return done


def run(workers: int, seconds: int) -> dict[str, Any]:
    for tool in ("wrk", "pgbench"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: apt-get install -y {tool} (see bench/README.md)")
    report: dict[str, Any] = {
        "workers": workers,
        "seconds": seconds,
        "connections": CONNECTIONS,
        "visitors": VISITORS,
    }
    with migrated_postgres() as url, tempfile.TemporaryDirectory() as scratch:
        tokens = Path(scratch) / "tokens"
        with ServerProcess(url, workers=workers, extra_env=GENEROUS_RATE_LIMITS) as server:
            deals = [NewDeal(f"Deal {i}", price=PRICE) for i in range(6)]
            project_id, bandit_ids, _ = seed_project(server.base_url, deals, customers=CUSTOMERS)
            base = server.base_url
            report["healthz"] = wrk(f"{base}/healthz", 64, seconds)
            ranks_ok = rank_runs(base, project_id, seconds, tokens, report)
            ranked = count_rows(url)
            clicks_ok = token_runs("click", base, seconds, tokens, report)
            clicked = count_rows(url)
            purchase = {"ENDPOINT": "/api/purchases", "FIELDS": f', "value": "{PURCHASE_VALUE}"'}
            purchases_ok = token_runs("purchase", base, seconds, tokens, report, **purchase)
        rank_in_flight = WARMUP_CONNECTIONS + sum(CONNECTIONS)
        report["ranks_ok"] = ranks_ok
        report["impressions_logged"] = ranked["impressions"]
        report["keys_stored"] = ranked["keys"]
        report["visitor_rows"] = ranked["visitors"]
        report["impressions_exact"] = within(
            DEALS_SHOWN * ranks_ok, ranked["impressions"], DEALS_SHOWN * rank_in_flight
        ) and within(ranks_ok, ranked["keys"], rank_in_flight)
        check = run_db_check(url)
        report["db_check_ok"] = check.returncode == 0
        report["clicks_logged"] = clicked["clicks"]
        report["clicks_ok"] = clicks_ok
        report["clicks_exact"] = within(clicks_ok, clicked["clicks"], sum(CONNECTIONS))
        bought = count_rows(url)
        report["purchases_ok"] = purchases_ok
        report["purchases_logged"] = bought["purchases"]
        report["clicks_implied"] = bought["clicks"] - clicked["clicks"]
        cents = int(PURCHASE_VALUE * 100)
        report["purchases_exact"] = (
            within(purchases_ok, bought["purchases"], sum(CONNECTIONS))
            and bought["purchase_rows"] == bought["purchases"]
            and bought["purchase_cents"] == cents * bought["purchases"]
        )
        # pgbench clicks a span of fresh impressions of its own.
        span = 150_000
        add_unclicked_impressions(url, project_id, bandit_ids, span)
        first = bought["last_id"] + 1
        ceilings: dict[str, float] = {}
        for c in CONNECTIONS:
            ceilings[f"rank_c{c}"] = pgbench(
                url,
                "rank.sql",
                c,
                seconds,
                project=project_id,
                first_bandit=bandit_ids[0],
                customers=CUSTOMERS,
            )
            ceilings[f"click_c{c}"] = pgbench(
                url, "click.sql", c, seconds, first_id=first, last_id=first + span - 1
            )
        report["pgbench_tps"] = ceilings
    report["ratios"] = {
        name: round(report[name]["rps"] / ceilings[name], 3) for name in ceilings
    } | {
        f"{name}_vs_healthz": round(report[name]["rps"] / report["healthz"]["rps"], 3)
        for name in (*ceilings, "purchase_c16", "purchase_c64")
    }
    r64, c64 = report["rank_c64"], report["click_c64"]
    report["targets_met"] = {
        "rank_rps>=2300": r64["rps"] >= TARGETS["rank_rps"],
        "click_rps>=1600": c64["rps"] >= TARGETS["click_rps"],
        "p99<=100ms": max(r64["p99_ms"], c64["p99_ms"]) <= TARGETS["p99_ms"],
        "zero_errors": all(
            report[n]["non2xx"] == 0 and report[n]["socket_errors"] == 0 for n in RUNS
        ),
        "impressions=3x_ranks": report["impressions_exact"],
        "clicks_counted": report["clicks_exact"],
        "purchases_counted": report["purchases_exact"],
        "db_check": report["db_check_ok"],
    }
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    report = run(args.workers, args.seconds)
    report["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    line = json.dumps(report, sort_keys=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"http-{report['when']}.json").write_text(line + "\n")
    print(line)
    exact = report["impressions_exact"] and report["clicks_exact"] and report["purchases_exact"]
    return 0 if report["db_check_ok"] and exact else 1


if __name__ == "__main__":
    sys.exit(main())
