"""Logged impressions out of and back into the analyst's hands: replay input and log export.

Replay needs the whole log in time order as flat arrays (it walks it once, jumping from kept
event to kept event), so loading builds compact NumPy arrays and never a list of row objects:
only the columns replay reads are parsed, from a CSV file (the Open Bandit Dataset layout) or
from a project's transactions by a streamed query. Export goes the other way, in bounded
batches, so that a log of any size leaves the database with constant memory.
"""

from __future__ import annotations

import csv
import os
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from numpy.typing import NDArray
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from hotdeals.bandit import (
    POLICY_NAMES,
    BanditError,
    Policy,
    ReplayResult,
    make_policy,
    replay,
)
from hotdeals.db.models import Transaction
from hotdeals.errors import InvalidRequest
from hotdeals.services.analytics import CSV_COLUMNS, csv_chunks, export_rows, require_project

__all__ = [
    "EventLog",
    "check_policy",
    "count_transactions",
    "export_csv",
    "export_parquet",
    "load_project_log",
    "read_log_csv",
    "replay_log",
]

REQUIRED_COLUMNS: Final = ("item_id", "click")
OPTIONAL_COLUMNS: Final = ("position", "timestamp")
# Rows fetched per round trip when streaming a project's log out of the database.
_FETCH = 10_000
# Rows per Parquet row group: large enough for good compression, small enough to stay bounded.
_PARQUET_BATCH = 50_000

Progress = Callable[[int], None]

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


@dataclass(frozen=True)
class EventLog:
    """A logged impression stream in time order, as the replay evaluator reads it."""

    source: str
    """Where the log came from (a path or "project N"), for messages."""
    item_ids: NDArray[Any]
    clicks: NDArray[np.int64]
    positions: NDArray[np.int64] | None
    """Slots numbered from 1, or None when the log does not say (top slot only then)."""

    def __len__(self) -> int:
        return len(self.item_ids)


def read_log_csv(path: Path) -> EventLog:
    """Read ``item_id``, ``click`` and, when present, ``position`` and ``timestamp``.

    Other columns (the dataset's user features, say) are never parsed, which keeps a wide log
    cheap to read. Rows are put in timestamp order when the log has one (stable, so ties keep
    the file's order), because replay must see events in the order they happened.
    """
    header = _read_header(path)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        raise InvalidRequest(
            f"{path}: missing column(s) {names}; a log needs item_id and click "
            "(position and timestamp are optional)"
        )
    wanted = [c for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in header]
    try:
        table = pa_csv.read_csv(path, convert_options=pa_csv.ConvertOptions(include_columns=wanted))
    except (pa.ArrowException, OSError) as exc:
        raise InvalidRequest(f"{path}: {_first_line(exc)}") from None
    if table.num_rows == 0:
        raise InvalidRequest(f"{path}: the log has no events")
    for name in wanted:
        nulls = table.column(name).null_count
        if nulls:
            raise InvalidRequest(f"{path}: column {name!r} has {nulls} empty value(s)")
    items = table.column("item_id").to_numpy()
    clicks = _whole_numbers(path, "click", table.column("click"))
    positions = (
        _whole_numbers(path, "position", table.column("position")) if "position" in wanted else None
    )
    if "timestamp" in wanted:
        order = np.argsort(_sort_keys(path, table.column("timestamp")), kind="stable")
        items, clicks = items[order], clicks[order]
        positions = None if positions is None else positions[order]
    return EventLog(str(path), items, clicks, positions)


def load_project_log(
    session: Session, project_id: int, progress: Progress | None = None
) -> EventLog:
    """A project's transactions in time order, streamed from the database into flat arrays.

    Only a project whose policy is ``uniform`` qualifies: replay is unbiased only when the
    logging policy chose every deal with the same probability, and any learning policy's log
    would credit the deals it already favoured.
    """
    project = require_project(session, project_id)
    if project.policy != "uniform":
        raise InvalidRequest(
            f"project {project_id} uses policy {project.policy!r}; replay is only unbiased on "
            "a log collected by the 'uniform' policy"
        )
    items, clicks, positions = array("q"), array("q"), array("q")
    query = (
        select(Transaction.bandit_id, Transaction.clicked, Transaction.position)
        .where(Transaction.project_id == project_id)
        .order_by(Transaction.timestamp, Transaction.transaction_id)
        .execution_options(yield_per=_FETCH)
    )
    for partition in session.execute(query).partitions():
        for bandit_id, clicked, position in partition:
            items.append(bandit_id)
            clicks.append(1 if clicked else 0)
            positions.append(0 if position is None else position)
        if progress is not None:
            progress(len(items))
    if not items:
        raise InvalidRequest(f"project {project_id} has no transactions to replay")
    slots = np.frombuffer(positions, dtype=np.int64)
    unknown = int((slots == 0).sum())
    if 0 < unknown < len(slots):
        raise InvalidRequest(
            f"project {project_id}: {unknown} transaction(s) have no position; replay needs "
            "the slot of every impression or of none"
        )
    return EventLog(
        f"project {project_id}",
        np.frombuffer(items, dtype=np.int64),
        np.frombuffer(clicks, dtype=np.int64),
        None if unknown else slots,
    )


def check_policy(policy: str, epsilon: float = 0.1) -> Policy:
    """The policy to replay, or one line saying why not (before a long log is read)."""
    if policy not in POLICY_NAMES:
        valid = ", ".join(POLICY_NAMES)
        raise InvalidRequest(f"unknown policy {policy!r}; valid names are: {valid}")
    try:
        return make_policy(policy, epsilon=epsilon)
    except BanditError as exc:
        raise InvalidRequest(f"--epsilon: {exc}") from None


def replay_log(log: EventLog, policy: str, *, epsilon: float = 0.1, seed: int = 0) -> ReplayResult:
    """Replay ``policy`` on ``log`` (Li et al., WSDM 2011); the seed reproduces the figures."""
    chosen = check_policy(policy, epsilon)
    try:
        return replay(chosen, log.item_ids, log.clicks, np.random.default_rng(seed), log.positions)
    except BanditError as exc:
        raise InvalidRequest(f"{log.source}: {exc}") from None


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
    """Rows passing through, counted, reporting progress every fetch-sized step."""

    def __init__(self, rows: Iterator[tuple[object, ...]], progress: Progress | None) -> None:
        self._rows = rows
        self._progress = progress
        self.rows = 0

    def __iter__(self) -> Iterator[tuple[object, ...]]:
        for row in self._rows:
            self.rows += 1
            if self._progress is not None and self.rows % _FETCH == 0:
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


def _read_header(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8") as file:
            header = next(csv.reader(file), None)
    except FileNotFoundError:
        raise InvalidRequest(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InvalidRequest(f"{path}: is a folder, not a CSV file") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidRequest(f"{path}: cannot read it as CSV ({_first_line(exc)})") from None
    if not header:
        raise InvalidRequest(f"{path}: the file is empty")
    return [name.strip() for name in header]


def _whole_numbers(path: Path, name: str, column: Any) -> NDArray[np.int64]:
    kind = column.type
    if pa.types.is_boolean(kind) or pa.types.is_integer(kind):
        return np.asarray(column.to_numpy(), dtype=np.int64)
    if pa.types.is_floating(kind):
        values = np.asarray(column.to_numpy(), dtype=np.float64)
        if bool(np.all(values == np.round(values))):
            return values.astype(np.int64)
    raise InvalidRequest(f"{path}: column {name!r} must hold whole numbers, found type {kind}")


def _sort_keys(path: Path, column: Any) -> NDArray[Any]:
    """Something that sorts like the timestamps: epoch numbers, or parsed ISO 8601 text."""
    kind = column.type
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return np.asarray(column.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_numpy())
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return np.asarray(column.to_numpy(), dtype=np.float64)
    keys = np.empty(len(column), dtype=np.float64)
    for i, text in enumerate(column.to_pylist()):
        try:
            moment = datetime.fromisoformat(str(text).strip())
        except ValueError:
            raise InvalidRequest(
                f"{path}: timestamp {text!r} is not a date and time (ISO 8601) or a number"
            ) from None
        keys[i] = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    return keys


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
