"""A campaign's transactions log out of the database: streamed CSV, and CSV or Parquet files.

On PostgreSQL the server writes the rows (``COPY ... TO STDOUT``, :mod:`hotdeals.db.log_copy`):
CSV cells formatted in SQL exactly as Python's writer formats them here, or, for Parquet, plain
text that Arrow parses into the typed columns, a row group per block. Elsewhere (SQLite) rows
come through a server-side cursor (``yield_per``) and Python writes them. Either way the log
leaves in bounded blocks, so an export of any size runs in constant memory, for the API's
streamed ``transactions.csv`` and for ``hotdeals export`` alike, with the same columns,
:data:`CSV_COLUMNS`, and the same bytes. A file is written beside its target and moved into
place only once complete, so a failed export never leaves half a file. Columns added later go
at the end, so a reader of the older columns by position keeps working.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.orm import Session

from hotdeals.db.log_copy import bulk_reads, copy_blocks, iso_utc
from hotdeals.db.models import Bandit, Transaction
from hotdeals.errors import InvalidRequest
from hotdeals.services.projects import require_project
from hotdeals.vocabulary import PRICE_DECIMALS, VALUE_DIGITS

__all__ = [
    "CSV_COLUMNS",
    "count_transactions",
    "csv_chunks",
    "csv_stream",
    "export_csv",
    "export_parquet",
    "export_rows",
]

Progress = Callable[[int], None]
"""Called with the number of rows written so far."""

# Rows between two progress reports.
_PROGRESS_STEP = 10_000
# Rows per Parquet row group: large enough for good compression, small enough to stay bounded.
_PARQUET_BATCH = 50_000
# Bytes per piece of the API's streamed CSV from PostgreSQL (a file gets the default blocks).
_STREAM_BYTES = 1 << 18

CSV_COLUMNS: Final = (
    "transaction_id",
    "timestamp",
    "customer_id",
    "project_id",
    "bandit_id",
    "bandit_name",
    "position",
    "clicked",
    "clicked_at",
    "purchases",
    "purchase_value",
    "purchased_at",
)

# The Parquet type of each column: timestamps as UTC microseconds, ``clicked`` a boolean, the
# purchases' value an exact decimal of the database column's precision and scale.
_PARQUET_TYPES: Final = {
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
    "purchase_value": pa.decimal128(VALUE_DIGITS, PRICE_DECIMALS),
    "purchased_at": pa.timestamp("us", tz="UTC"),
}
# A value with exactly the column's decimals ("0.00", "3.49"), whatever the driver returns.
_CENT: Final = Decimal(1).scaleb(-PRICE_DECIMALS)

# PostgreSQL's side of an export: one project's log in id order, with its deals' names.
_FROM: Final = (
    "FROM transactions t JOIN bandits b ON b.bandit_id = t.bandit_id "
    "WHERE t.project_id = %s ORDER BY t.transaction_id"
)
# The CSV cells as csv_chunks writes them: timestamps as isoformat() in UTC, booleans as
# Python's True and False, values with exactly the column's decimals, NULL as an empty cell.
# CSV quoting agrees too (a field with a comma or a quote is quoted, quotes doubled) for every
# name a deal can have: names never hold line breaks and are never empty.
_CSV_SELECT: Final = (
    f"SELECT t.transaction_id, {iso_utc('t.timestamp')}, t.customer_id, t.project_id, "
    "t.bandit_id, b.bandit_name, t.position, CASE WHEN t.clicked THEN 'True' ELSE 'False' END, "
    f"{iso_utc('t.clicked_at')}, t.purchases, round(t.purchase_value, {PRICE_DECIMALS}), "
    f"{iso_utc('t.purchased_at')} {_FROM}"
)
# For Arrow: the columns as the server writes them anyway (ISO 8601 with the zone, t and f),
# which costs it no formatting; Arrow parses them into _PARQUET_TYPES.
_RAW_SELECT: Final = (
    "SELECT t.transaction_id, t.timestamp, t.customer_id, t.project_id, t.bandit_id, "
    "b.bandit_name, t.position, t.clicked, t.clicked_at, t.purchases, t.purchase_value, "
    f"t.purchased_at {_FROM}"
)


def export_rows(
    engine: Engine, project_id: int, *, chunk: int = 5_000
) -> Iterator[tuple[object, ...]]:
    """The project's log in id order, fetched in chunks (constant memory on any log size).

    An export is an analyst job, not a request: on PostgreSQL its transaction lifts the
    statement timeout (``SET LOCAL``, so it holds behind PgBouncer in transaction mode too).
    """
    with Session(engine) as session:
        if engine.dialect.name == "postgresql":
            session.execute(text("SET LOCAL statement_timeout = 0"))
        query = (
            select(
                Transaction.transaction_id,
                Transaction.timestamp,
                Transaction.customer_id,
                Transaction.project_id,
                Transaction.bandit_id,
                Bandit.bandit_name,
                Transaction.position,
                Transaction.clicked,
                Transaction.clicked_at,
                Transaction.purchases,
                Transaction.purchase_value,
                Transaction.purchased_at,
            )
            .join(Bandit, Bandit.bandit_id == Transaction.bandit_id)
            .where(Transaction.project_id == project_id)
            .order_by(Transaction.transaction_id)
            .execution_options(yield_per=chunk)
        )
        for row in session.execute(query):
            *head, value, purchased_at = row
            yield (*head, Decimal(value).quantize(_CENT), purchased_at)


def csv_chunks(rows: Iterator[tuple[object, ...]], *, rows_per_chunk: int = 1_000) -> Iterator[str]:
    """CSV text in pieces for a streamed HTTP response: timestamps in ISO 8601 UTC, values as
    plain decimals ("3.49"), a missing timestamp (no click, no purchase) as an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for count, row in enumerate(rows, start=1):
        writer.writerow(
            ["" if v is None else v.isoformat() if isinstance(v, datetime) else v for v in row]
        )
        if count % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_stream(engine: Engine, project_id: int) -> Iterator[bytes]:
    """The project's log as the CSV of :func:`csv_chunks`, in pieces for a streamed response.

    The same bytes on every backend; PostgreSQL writes them itself (no Python object per row).
    """
    if not bulk_reads(engine):
        for piece in csv_chunks(export_rows(engine, project_id)):
            yield piece.encode()
        return
    yield _HEADER
    with engine.connect() as connection, connection.begin():
        for block, _ in copy_blocks(connection, _CSV_SELECT, (project_id,), size=_STREAM_BYTES):
            yield block


def count_transactions(session: Session, project_id: int) -> int:
    """How many rows an export of the project will write (for a progress bar's total)."""
    require_project(session, project_id)
    query = select(func.count()).where(Transaction.project_id == project_id)
    return int(session.scalar(query) or 0)


def export_csv(
    engine: Engine, project_id: int, path: Path, progress: Progress | None = None
) -> int:
    """Write the project's log as CSV (the API's column layout); return the rows written."""
    _require(engine, project_id)
    if bulk_reads(engine):
        with (
            _replacing(path) as part,
            part.open("wb") as file,
            engine.connect() as connection,
            connection.begin(),
        ):
            file.write(_HEADER)
            rows = 0
            for block, count in copy_blocks(
                connection, _CSV_SELECT, (project_id,), progress=progress
            ):
                file.write(block)
                rows += count
        return rows
    counted = _Counted(export_rows(engine, project_id), progress)
    with _replacing(path) as part, part.open("w", newline="", encoding="utf-8") as file:
        for piece in csv_chunks(iter(counted)):
            file.write(piece)
    return counted.rows


def export_parquet(
    engine: Engine,
    project_id: int,
    path: Path,
    progress: Progress | None = None,
    *,
    batch_rows: int = _PARQUET_BATCH,
) -> int:
    """Write the project's log as Parquet, one row group per batch; return the rows written.

    Columns keep their types (timestamps as UTC microseconds, ``clicked`` as a boolean, the
    purchases' value as an exact ``decimal128``), which is the point of Parquet over CSV for
    analysts loading the log into a data frame.
    """
    _require(engine, project_id)
    schema = pa.schema([(name, _PARQUET_TYPES[name]) for name in CSV_COLUMNS])
    if bulk_reads(engine):
        with (
            _replacing(path) as part,
            pq.ParquetWriter(part, schema) as writer,
            engine.connect() as connection,
        ):
            return _copy_parquet(connection, project_id, writer, schema, batch_rows, progress)
    counted = _Counted(export_rows(engine, project_id), progress)
    with _replacing(path) as part, pq.ParquetWriter(part, schema) as writer:
        batch: list[tuple[object, ...]] = []
        for row in counted:
            batch.append(row)
            if len(batch) >= batch_rows:
                writer.write_batch(_record_batch(batch, schema))
                batch.clear()
        if batch or counted.rows == 0:
            writer.write_batch(_record_batch(batch, schema))
    return counted.rows


def _copy_parquet(
    connection: Connection,
    project_id: int,
    writer: Any,
    schema: Any,
    batch_rows: int,
    progress: Progress | None,
) -> int:
    """PostgreSQL's rows in blocks of ``batch_rows``, each parsed by Arrow into the typed
    columns and written as one row group; the rows written. A block is parsed on this thread:
    blocks are small, the server needs the other cores, and Arrow's threads cost memory."""
    read = pa_csv.ReadOptions(column_names=list(CSV_COLUMNS), use_threads=False)
    parse = pa_csv.ParseOptions(newlines_in_values=True)
    convert = pa_csv.ConvertOptions(
        column_types=_PARQUET_TYPES,
        true_values=["t"],
        false_values=["f"],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    rows = 0
    with connection.begin():
        for block, count in copy_blocks(
            connection, _RAW_SELECT, (project_id,), rows=batch_rows, size=None, progress=progress
        ):
            table = pa_csv.read_csv(pa.py_buffer(block), read, parse, convert)
            writer.write_table(table.cast(schema), row_group_size=batch_rows)
            rows += count
    if rows == 0:
        writer.write_table(schema.empty_table())
    return rows


class _Counted:
    """Rows passing through, counted, reporting progress every ``_PROGRESS_STEP`` rows."""

    def __init__(self, rows: Iterator[tuple[object, ...]], progress: Progress | None) -> None:
        self._rows = rows
        self._progress = progress
        self.rows = 0

    def __iter__(self) -> Iterator[tuple[object, ...]]:
        for row in self._rows:
            self.rows += 1
            if self._progress is not None and self.rows % _PROGRESS_STEP == 0:
                self._progress(self.rows)
            yield row
        if self._progress is not None:
            self._progress(self.rows)


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """Write beside the target and move into place on success, so no half file is ever left."""
    if not path.parent.is_dir():
        raise InvalidRequest(f"{path}: the folder {path.parent} does not exist")
    part = path.with_name(path.name + ".part")
    try:
        yield part
        os.replace(part, path)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise InvalidRequest(f"{path}: cannot write it ({exc.strerror or exc})") from None
    except BaseException:
        part.unlink(missing_ok=True)
        raise


# The header row exactly as csv_chunks writes it.
_HEADER: Final = next(csv_chunks(iter(()))).encode()


def _require(engine: Engine, project_id: int) -> None:
    with Session(engine) as session:
        require_project(session, project_id)


def _record_batch(rows: list[tuple[object, ...]], schema: Any) -> Any:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in CSV_COLUMNS]
    return pa.RecordBatch.from_arrays(
        [
            pa.array(list(values), type=field.type)
            for values, field in zip(columns, schema, strict=True)
        ],
        schema=schema,
    )
