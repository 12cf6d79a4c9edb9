"""A campaign's transactions log out of the database: streamed CSV, and CSV or Parquet files.

The log leaves in bounded chunks (a server-side cursor, ``yield_per``), so an export of any size
runs in constant memory, for the API's streamed ``transactions.csv`` and for ``hotdeals export``
alike; both write the same columns, :data:`CSV_COLUMNS`. A file is written beside its target and
moved into place only once complete, so a failed export never leaves half a file.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from hotdeals.db.models import Bandit, Transaction
from hotdeals.errors import InvalidRequest
from hotdeals.services.projects import require_project

__all__ = [
    "CSV_COLUMNS",
    "count_transactions",
    "csv_chunks",
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
)

# The Parquet type of each column: timestamps as UTC microseconds, ``clicked`` a boolean.
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
}


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
            )
            .join(Bandit, Bandit.bandit_id == Transaction.bandit_id)
            .where(Transaction.project_id == project_id)
            .order_by(Transaction.transaction_id)
            .execution_options(yield_per=chunk)
        )
        for row in session.execute(query):
            yield tuple(row)


def csv_chunks(rows: Iterator[tuple[object, ...]], *, rows_per_chunk: int = 1_000) -> Iterator[str]:
    """CSV text in pieces for a streamed HTTP response; timestamps in ISO 8601 UTC."""
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

    Columns keep their types (timestamps as UTC microseconds, ``clicked`` as a boolean), which
    is the point of Parquet over CSV for analysts loading the log into a data frame.
    """
    _require(engine, project_id)
    schema = pa.schema([(name, _PARQUET_TYPES[name]) for name in CSV_COLUMNS])
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
