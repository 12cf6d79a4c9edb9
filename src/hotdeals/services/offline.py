"""Offline replay: a logged impression stream, from a CSV file or the database, replayed.

Replay needs the whole log in time order as flat arrays (it walks it once, jumping from kept
event to kept event), so loading builds compact NumPy arrays and never a list of row objects:
only the columns replay reads are parsed, from a CSV file (the Open Bandit Dataset layout) or
from a project's transactions by a streamed query. (The log's export to CSV or Parquet is
:mod:`hotdeals.services.export`.)
"""

from __future__ import annotations

import csv
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotdeals.bandit import POLICY_NAMES, Policy, ReplayResult, replay
from hotdeals.db.models import Transaction
from hotdeals.errors import InvalidRequest
from hotdeals.services.bandit_errors import bandit_errors_as_invalid_request, checked_policy
from hotdeals.services.projects import require_project

__all__ = [
    "EventLog",
    "check_policy",
    "load_project_log",
    "read_log_csv",
    "replay_log",
]

REQUIRED_COLUMNS: Final = ("item_id", "click")
OPTIONAL_COLUMNS: Final = ("position", "timestamp")
# Rows fetched per round trip when streaming a project's log out of the database.
_FETCH = 10_000

Progress = Callable[[int], None]
"""Called with the number of events loaded so far."""


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
    return checked_policy(policy, epsilon, context="--epsilon")


def replay_log(log: EventLog, policy: str, *, epsilon: float = 0.1, seed: int = 0) -> ReplayResult:
    """Replay ``policy`` on ``log`` (Li et al., WSDM 2011); the seed reproduces the figures."""
    chosen = check_policy(policy, epsilon)
    with bandit_errors_as_invalid_request(log.source):
        return replay(chosen, log.item_ids, log.clicks, np.random.default_rng(seed), log.positions)


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
