"""A realistic campaign log of any size, loaded into a migrated PostgreSQL database in minutes.

Whole-log operations (exports, replay, ``db-check``, the analytics that must not read the log)
are only worth measuring at the sizes a supermarket reaches: 300,000 impressions a day, 10M in a
month. Logging them through the API would take hours, so this module writes them the way a
bulk load does, with ``COPY ... FROM STDIN``, and then lets the project's own repair
(:func:`hotdeals.db.audit.scan_log` and :func:`~hotdeals.db.audit.repair_counters`, what
``hotdeals db-check --repair`` runs) set every counter, slot counter and hour rollup from the
log. The database is then exactly what live traffic would have left: ``db-check`` is clean.

The log is a ``uniform`` campaign (so ``hotdeals replay --from-db`` accepts it) of ``deals``
deals shown ``slots`` at a time: each rank shows distinct deals drawn uniformly, in slots 1..k,
to one of ``customers`` customers, at times spread evenly over the last ``days`` days. Deals'
click rates run from 2% to 4% (3% on average), a click follows its impression by 1 to 120 s,
and 5% of clicks lead to a purchase (one order of 0.99 to 49.99, 1 to 30 minutes later), each
with its row in ``purchases``. The same seed loads the same log.

    .venv/bin/python -m bench.data_load --rows 1000000 --url postgresql://postgres@127.0.0.1/db

prints one JSON line (the project's id, the rows, seconds to load and to repair). From Python::

    from bench.data_load import load_transactions
    loaded = load_transactions(url, 10_000_000)  # a Loaded: project_id, rows, timings
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from hotdeals.db.audit import find_mismatches, repair_counters, scan_log
from hotdeals.db.engine import Timeouts, make_engine
from hotdeals.db.partitions import ensure_partitions
from hotdeals.services.projects import add_bandit, create_project
from hotdeals.services.specs import DealSpec, ProjectSpec
from hotdeals.vocabulary import MAX_DEALS_PER_REQUEST

__all__ = ["Loaded", "load_transactions"]

# Impressions generated and sent per COPY block: about 60 MB of CSV, bounded memory at any size.
_BLOCK_ROWS = 1_000_000
_CLICK_RATES = (0.02, 0.04)  # the worst and best deal's; the others evenly between
_PURCHASE_RATE = 0.05  # of clicks
_CENTS = (99, 4_999)  # a purchase's value, in cents
_US = 1_000_000
_TRANSACTION_COLUMNS = (
    "customer_id",
    "project_id",
    "bandit_id",
    "timestamp",
    "clicked",
    "position",
    "clicked_at",
    "purchases",
    "purchase_value",
    "purchased_at",
)


@dataclass(frozen=True)
class Loaded:
    """What :func:`load_transactions` wrote, and how long it took."""

    project_id: int
    rows: int
    clicks: int
    purchases: int
    customers: int
    load_s: float
    """Customers, the campaign and the COPY of the log, with ANALYZE."""
    repair_s: float
    """``scan_log`` and ``repair_counters``: one scan of the log and the counters' writes,
    then ANALYZE of what they wrote."""


def load_transactions(
    url: str,
    rows: int,
    deals: int = 6,
    days: float = 30,
    customers: int = 10_000,
    *,
    slots: int = 3,
    seed: int = 0,
    end: datetime | None = None,
    check: bool = False,
) -> Loaded:
    """Load a new uniform campaign with ``rows`` impressions into the migrated database ``url``.

    The log ends at ``end`` (default: now, so the last 24 h have traffic) and starts ``days``
    before. Every counter is then rebuilt from the log in one session, as ``db-check
    --repair`` does; with ``check`` a second scan (``find_mismatches``) proves it clean.
    """
    if rows < 0 or deals < 1 or slots < 1 or customers < 1 or days <= 0:
        raise ValueError("rows >= 0, deals, slots and customers >= 1, and days > 0")
    engine = make_engine(url, timeouts=Timeouts().for_analysts())
    try:
        started = time.perf_counter()
        rng = np.random.default_rng(seed)
        customer_ids = _add_customers(engine, customers)
        project_id, bandit_ids = _add_campaign(engine, deals, slots)
        clicks, purchases = _copy_log(
            engine,
            _Campaign(project_id, bandit_ids, min(slots, deals), customer_ids),
            rows,
            _span(end, days),
            rng,
        )
        loaded = time.perf_counter()
        with Session(engine) as session, session.begin():
            session.execute(text("SET LOCAL statement_timeout = 0"))
            repair_counters(session, [project_id], scan_log(session, [project_id]))
        with engine.connect() as connection:  # what autovacuum does after such writes
            connection.execute(text("ANALYZE bandits, bandit_positions, deal_hours"))
            connection.commit()
        if check:
            with Session(engine) as session:
                if wrong := find_mismatches(session, [project_id]):
                    raise AssertionError(f"db-check after the load: {wrong[:3]}")
        repaired = time.perf_counter()
    finally:
        engine.dispose()
    return Loaded(
        project_id,
        rows,
        clicks,
        purchases,
        customers,
        round(loaded - started, 2),
        round(repaired - loaded, 2),
    )


@dataclass(frozen=True)
class _Campaign:
    project_id: int
    bandit_ids: np.ndarray[Any, np.dtype[np.int64]]
    shown: int
    """Deals per rank (k)."""
    customer_ids: np.ndarray[Any, np.dtype[np.int64]]


def _span(end: datetime | None, days: float) -> tuple[int, int]:
    """The log's first and last moment, in microseconds since the epoch."""
    last = end or datetime.now(UTC)
    first = last - timedelta(days=days)
    return int(first.timestamp() * _US), int(last.timestamp() * _US)


def _add_customers(engine: Engine, count: int) -> np.ndarray[Any, np.dtype[np.int64]]:
    """``count`` new customers (a nonce keeps their emails unique across loads); their ids."""
    nonce = uuid.uuid4().hex[:10]
    now = datetime.now(UTC).isoformat()
    lines = "".join(f"bench-{nonce}-{i}@example.com,Shopper {i},{now}\n" for i in range(count))
    with engine.begin() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        with (
            raw.cursor() as cursor,
            cursor.copy("COPY users (email, name, created_at) FROM STDIN (FORMAT csv)") as copy,
        ):
            copy.write(lines.encode())
        found = connection.execute(
            text("SELECT customer_id FROM users WHERE email LIKE :pattern ORDER BY customer_id"),
            {"pattern": f"bench-{nonce}-%"},
        )
        return np.fromiter((row[0] for row in found), dtype=np.int64, count=count)


def _add_campaign(engine: Engine, deals: int, slots: int) -> tuple[int, Any]:
    """A running ``uniform`` campaign (the only kind replay accepts) with ``deals`` deals."""
    specs = [DealSpec(bandit_name=f"Deal {i + 1}", price=Decimal("2.49")) for i in range(deals)]
    first = specs[:MAX_DEALS_PER_REQUEST]  # a campaign is created with at most that many
    spec = ProjectSpec(
        project_name=f"Bench {uuid.uuid4().hex[:8]}",
        policy="uniform",
        slots=slots,
        bandits=tuple(first),
    )
    with Session(engine) as session, session.begin():
        project = create_project(session, spec)
        more = [add_bandit(session, project.project_id, deal) for deal in specs[len(first) :]]
        ids = np.array([b.bandit_id for b in [*project.bandits, *more]], dtype=np.int64)
        return project.project_id, ids


def _copy_log(
    engine: Engine,
    campaign: _Campaign,
    rows: int,
    span: tuple[int, int],
    rng: np.random.Generator,
) -> tuple[int, int]:
    """COPY the impressions in blocks, then one ``purchases`` row per purchased impression;
    return the clicks and the purchases written."""
    columns = ", ".join(f'"{c}"' for c in _TRANSACTION_COLUMNS)
    statement = f"COPY transactions ({columns}) FROM STDIN (FORMAT csv)"
    clicks = purchases = 0
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL statement_timeout = 0"))
        if connection.execute(text("SHOW is_superuser")).scalar() == "on":
            # The rows are consistent by construction (the ids were just read back), so the
            # foreign keys' per-row checks, 80% of a checked load, are skipped as a restore
            # skips them; any other role loads with the checks.
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        raw = connection.connection.driver_connection
        assert raw is not None
        for block in _blocks(campaign, rows, span, rng):
            # A COPY per block, so that the id ranges of a partitioned log are made ahead of
            # it as the servers make them (nothing on a log that is not partitioned).
            ensure_partitions(connection)
            clicks += int(pc.sum(block.column("clicked")).as_py() or 0)
            purchases += int(pc.sum(block.column("purchases")).as_py() or 0)
            sink = pa.BufferOutputStream()
            pa_csv.write_csv(block, sink, pa_csv.WriteOptions(include_header=False))
            with raw.cursor() as cursor, cursor.copy(statement) as copy:
                copy.write(sink.getvalue().to_pybytes())
        connection.execute(
            text(
                "INSERT INTO purchases (transaction_id, order_id, bandit_id, value, quantity, "
                "purchased_at) SELECT transaction_id, 'bench-' || transaction_id, bandit_id, "
                "purchase_value, 1, purchased_at FROM transactions WHERE project_id = :p "
                "AND (purchases <> 0 OR purchase_value <> 0)"
            ),
            {"p": campaign.project_id},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("SET statement_timeout = 0"))
        connection.execute(text("ANALYZE users, transactions, purchases"))
    return clicks, purchases


def _blocks(
    campaign: _Campaign, rows: int, span: tuple[int, int], rng: np.random.Generator
) -> Iterator[pa.Table]:
    """The log in time order, ``_BLOCK_ROWS`` impressions (whole ranks) at a time."""
    k = campaign.shown
    ranks = -(-rows // k)
    step = (span[1] - span[0]) / max(ranks, 1)
    rates = np.linspace(*_CLICK_RATES, num=len(campaign.bandit_ids))
    per_block = max(1, _BLOCK_ROWS // k)
    for first in range(0, ranks, per_block):
        count = min(per_block, ranks - first)
        # Each rank: k distinct deals in random order (uniform), one customer, one moment.
        order = np.argsort(rng.random((count, len(campaign.bandit_ids))), axis=1)[:, :k]
        moments = span[0] + ((np.arange(first, first + count) + rng.random(count)) * step)
        shown = min(count * k, rows - first * k)
        deal = order.reshape(-1)[:shown]
        at = np.repeat(moments.astype(np.int64), k)[:shown]
        position = np.tile(np.arange(1, k + 1, dtype=np.int64), count)[:shown]
        customer = np.repeat(rng.choice(campaign.customer_ids, size=count), k)[:shown]
        clicked = rng.random(shown) < rates[deal]
        clicked_at = at + rng.integers(1 * _US, 120 * _US, size=shown)
        bought = clicked & (rng.random(shown) < _PURCHASE_RATE)
        bought_at = clicked_at + rng.integers(60 * _US, 1_800 * _US, size=shown)
        cents = np.where(bought, rng.integers(_CENTS[0], _CENTS[1] + 1, size=shown), 0)
        yield pa.table(
            {
                "customer_id": customer,
                "project_id": np.full(shown, campaign.project_id, dtype=np.int64),
                "bandit_id": campaign.bandit_ids[deal],
                "timestamp": _moments(at, None),
                "clicked": clicked,
                "position": position,
                "clicked_at": _moments(clicked_at, ~clicked),
                "purchases": bought.astype(np.int64),
                "purchase_value": _money(cents),
                "purchased_at": _moments(bought_at, ~bought),
            }
        )


def _moments(micros: Any, missing: Any) -> pa.Array:
    return pa.array(micros, type=pa.timestamp("us", tz="UTC"), mask=missing)


def _money(cents: Any) -> pa.Array:
    """Exact decimals from whole cents: a decimal128's storage is its unscaled 128-bit integer
    (little-endian; the values are >= 0, so the high word is 0)."""
    words = np.zeros((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    return pa.Array.from_buffers(pa.decimal128(14, 2), len(cents), [None, pa.py_buffer(words)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, required=True, help="impressions to load")
    parser.add_argument(
        "--url",
        default=os.environ.get("DATABASE_URL"),
        help="a migrated PostgreSQL database (default: DATABASE_URL)",
    )
    parser.add_argument("--deals", type=int, default=6)
    parser.add_argument("--days", type=float, default=30)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--slots", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", action="store_true", help="run db-check's audit after")
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("give --url or set DATABASE_URL")
    loaded = load_transactions(
        args.url,
        args.rows,
        args.deals,
        args.days,
        args.customers,
        slots=args.slots,
        seed=args.seed,
        check=args.check,
    )
    print(json.dumps(asdict(loaded), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
