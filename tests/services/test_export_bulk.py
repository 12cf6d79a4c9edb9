"""Exports on PostgreSQL by COPY write the very bytes Python's writer writes (and SQLite's
export), Parquet keeps its exact types, and a stream left early frees its connection."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session

from hotdeals.db.counters import Impression, log_impressions, record_click
from hotdeals.db.engine import make_engine, normalise_url
from hotdeals.db.log_copy import copy_blocks
from hotdeals.db.purchases import PurchaseEvent, record_purchase
from hotdeals.services.export import (
    CSV_COLUMNS,
    csv_chunks,
    csv_stream,
    export_csv,
    export_parquet,
    export_rows,
)
from tests.conftest import empty_database
from tests.factories import make_project, make_user

# On the second, and with microseconds: isoformat() writes the fraction only when it is not 0.
START = datetime(2026, 11, 20, 9, 30, 0, tzinfo=UTC)
# Names that CSV must quote (a comma, quotes) and one beyond ASCII.
NAMES = ["Kiwis, ripe", 'Figs "Smyrna"', "Äpfel 🍎"]
TYPES = {
    "transaction_id": pa.int64(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "customer_id": pa.int64(),
    "project_id": pa.int64(),
    "bandit_id": pa.int64(),
    "bandit_name": pa.string(),
    "position": pa.int64(),
    "clicked": pa.bool_(),
    "clicked_at": pa.timestamp("us", tz="UTC"),
    "purchases": pa.int64(),
    "purchase_value": pa.decimal128(14, 2),
    "purchased_at": pa.timestamp("us", tz="UTC"),
}


@pytest.fixture
def backends(sqlite_url: str, postgres_url: str) -> Iterator[dict[str, Engine]]:
    """Both backends' engines, each database emptied (ids restart at 1 on both)."""
    engines = {"sqlite": make_engine(sqlite_url), "postgresql": make_engine(postgres_url)}
    for engine in engines.values():
        empty_database(engine)
    yield engines
    for engine in engines.values():
        engine.dispose()


def seed(engine: Engine, pages: int = 40) -> int:
    """A log with every kind of cell: slots and none, clicks, purchases (3.49 + 10.01, and a
    whole 5.00), timestamps on the second and not; the same rows whichever the backend."""
    with Session(engine) as session, session.begin():
        customer = make_user(session, "pia@example.com", "Pia").customer_id
        project = make_project(session, deals=NAMES, project_name="Week 48", slots=2)
        deals = [b.bandit_id for b in project.bandits]
        shown = [
            Impression(
                customer,
                project.project_id,
                deals[page % len(deals)],
                None if page % 7 == 3 else 1 + page % 2,
                START + timedelta(minutes=page, microseconds=0 if page % 3 else 1_000 * page + 7),
            )
            for page in range(pages)
        ]
        ids = log_impressions(session, shown)
        for i, transaction_id in enumerate(ids):
            if i % 5 == 1:
                record_click(session, transaction_id, START + timedelta(hours=1, seconds=i))
        project_id = project.project_id
    for order, (i, value) in enumerate(((2, "3.49"), (2, "10.01"), (9, "5"))):
        with Session(engine) as session, session.begin():
            event = PurchaseEvent(Decimal(value), 1, f"o-{order}")
            at = START + timedelta(days=1, microseconds=order * 250_000)
            record_purchase(session, ids[i], event, at)
    return project_id


def python_csv(engine: Engine, project_id: int) -> bytes:
    """What Python's writer makes of the rows (the path every backend had before COPY)."""
    return "".join(csv_chunks(export_rows(engine, project_id))).encode()


def test_both_backends_and_pythons_writer_give_the_same_bytes(
    backends: dict[str, Engine], tmp_path: Path
) -> None:
    written: dict[str, bytes] = {}
    for name, engine in backends.items():
        project_id = seed(engine)
        path = tmp_path / f"{name}.csv"
        done: list[int] = []
        assert export_csv(engine, project_id, path, done.append) == 40
        assert done[-1] == 40
        written[name] = path.read_bytes()
        assert written[name] == python_csv(engine, project_id)
        assert b"".join(csv_stream(engine, project_id)) == written[name]
    assert written["postgresql"] == written["sqlite"]
    rows = written["postgresql"].decode().splitlines()
    assert rows[0] == ",".join(CSV_COLUMNS)
    assert rows[1].split(",")[1] == "2026-11-20T09:30:00.000007+00:00"
    assert rows[2].split(",")[1] == "2026-11-20T09:31:00+00:00"  # isoformat(): no ".000000"
    assert '"Figs ""Smyrna"""' in rows[2]
    assert ",13.50," in rows[3]
    assert ",0.00," in rows[1]
    assert ",True," in rows[2]
    assert ",False," in rows[1]


def test_the_session_settings_do_not_change_the_bytes(
    backends: dict[str, Engine], tmp_path: Path
) -> None:
    """A server in local time (psycopg reads only the ISO date style): still UTC ISO 8601."""
    engine = backends["postgresql"]
    project_id = seed(engine)
    export_csv(engine, project_id, tmp_path / "utc.csv")
    options = "-c TimeZone=Asia/Kolkata -c DateStyle=ISO,DMY"
    elsewhere = create_engine(
        normalise_url(str(engine.url.render_as_string(hide_password=False))),
        connect_args={"options": options},
    )
    try:
        with elsewhere.connect() as connection:
            assert connection.execute(text("SHOW TimeZone")).scalar() == "Asia/Kolkata"
        export_csv(elsewhere, project_id, tmp_path / "kolkata.csv")
        export_parquet(elsewhere, project_id, tmp_path / "kolkata.parquet")
    finally:
        elsewhere.dispose()
    assert (tmp_path / "kolkata.csv").read_bytes() == (tmp_path / "utc.csv").read_bytes()
    export_parquet(engine, project_id, tmp_path / "utc.parquet")
    kolkata = pq.read_table(tmp_path / "kolkata.parquet")
    assert kolkata.equals(pq.read_table(tmp_path / "utc.parquet"))


def test_parquet_by_copy_round_trips_with_the_exact_types(
    backends: dict[str, Engine], tmp_path: Path
) -> None:
    tables = {}
    for name, engine in backends.items():
        project_id = seed(engine)
        path = tmp_path / f"{name}.parquet"
        assert export_parquet(engine, project_id, path, batch_rows=16) == 40
        assert pq.ParquetFile(path).metadata.num_row_groups == 3  # 16 + 16 + 8
        tables[name] = pq.read_table(path)
    table = tables["postgresql"]
    assert {field.name: field.type for field in table.schema} == TYPES
    assert table.column_names == list(CSV_COLUMNS)
    assert table.equals(tables["sqlite"])
    # The CSV export of the same log parses back to the same values.
    csv_path = tmp_path / "log.csv"
    export_csv(backends["postgresql"], project_id, csv_path)
    parsed = pa_csv.read_csv(csv_path, convert_options=pa_csv.ConvertOptions(column_types=TYPES))
    assert parsed.equals(table)  # True and False are booleans to Arrow too
    values = table.column("purchase_value").to_pylist()
    assert values[2] == Decimal("13.50")
    assert values[9] == Decimal("5.00")
    assert table.column("timestamp").to_pylist()[3] == START + timedelta(
        minutes=3, microseconds=3_007
    )


def test_an_empty_project_has_a_header_and_an_empty_table(
    backends: dict[str, Engine], tmp_path: Path
) -> None:
    engine = backends["postgresql"]
    with Session(engine) as session, session.begin():
        project_id = make_project(session, deals=["Kiwis"]).project_id
    assert export_csv(engine, project_id, tmp_path / "empty.csv") == 0
    assert (tmp_path / "empty.csv").read_text(encoding="utf-8") == ",".join(CSV_COLUMNS) + "\n"
    assert export_parquet(engine, project_id, tmp_path / "empty.parquet") == 0
    table = pq.read_table(tmp_path / "empty.parquet")
    assert table.num_rows == 0
    assert {field.name: field.type for field in table.schema} == TYPES


def test_a_stream_left_early_gives_its_connection_back(backends: dict[str, Engine]) -> None:
    """A client that hangs up mid-download: the COPY ends and the pooled connection is free."""
    engine = backends["postgresql"]
    project_id = seed(engine, pages=6_000)  # over 256 KiB: several pieces
    stream = csv_stream(engine, project_id)
    assert next(stream).startswith(b"transaction_id,")
    first = next(stream)
    assert first.endswith(b"\n")
    assert len(first) >= 1 << 18
    assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    stream.close()
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    with engine.connect() as connection:
        busy = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND query LIKE 'COPY%' AND state <> 'idle'"
            )
        ).scalar()
        assert busy == 0
        assert connection.execute(text("SELECT count(*) FROM transactions")).scalar() == 6_000


def test_a_csv_file_parses_back_in_order(backends: dict[str, Engine], tmp_path: Path) -> None:
    engine = backends["postgresql"]
    project_id = seed(engine)
    export_csv(engine, project_id, tmp_path / "log.csv")
    table = pa_csv.read_csv(io.BytesIO((tmp_path / "log.csv").read_bytes()))
    ids = table.column("transaction_id").to_pylist()
    assert ids == sorted(ids)
    assert len(ids) == 40
    assert not list(tmp_path.glob("*.part"))


def test_an_error_in_the_middle_of_a_copy_is_raised_and_the_connection_recovers(
    backends: dict[str, Engine],
) -> None:
    """The server fails after sending rows (here a division by zero at the 40,000th): the
    error reaches the reader as psycopg's own, not as a short export."""
    engine = backends["postgresql"]
    query = "SELECT x, 1 / (x - %s) FROM generate_series(1, 50000) AS x"
    received: list[int] = []

    def read(connection: Connection) -> None:
        with connection.begin():
            for _, count in copy_blocks(connection, query, (40_000,), rows=1_000):
                received.append(count)

    with engine.connect() as connection:
        with pytest.raises(psycopg.errors.DivisionByZero):
            read(connection)
        assert 0 < sum(received) < 40_000
        assert connection.execute(text("SELECT 1")).scalar() == 1
