"""Offline replay: a logged impression stream, from a CSV file or the database, replayed.

Replay walks the log once in time order. A CSV file (the Open Bandit Dataset layout, or a CSV
export of a project's log, :mod:`hotdeals.services.export`) is read into compact NumPy arrays of
only the columns replay reads. A project's transactions are never held whole: one aggregate
says which deals and slots the log has (all the walk must know first), then the events arrive
in pieces (PostgreSQL writes them by COPY, :mod:`hotdeals.db.log_copy`) and are walked as they
come (:class:`~hotdeals.bandit.replay.ReplayWalk`), so memory stays flat whatever the log's
size, and the figures are those of a walk over the whole log at once.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from numpy.typing import NDArray
from sqlalchemy import Engine, case, func, select
from sqlalchemy.orm import Session

from hotdeals.bandit import POLICY_NAMES, Policy, ReplayResult, replay
from hotdeals.bandit.replay import ReplayWalk
from hotdeals.db.log_copy import bulk_reads, copy_blocks
from hotdeals.db.models import Transaction
from hotdeals.errors import InvalidRequest
from hotdeals.services.bandit_errors import bandit_errors_as_invalid_request, checked_policy
from hotdeals.services.projects import require_project

__all__ = [
    "EventLog",
    "ProjectLog",
    "check_policy",
    "project_log",
    "read_log_csv",
    "replay_log",
    "replay_project",
]

REQUIRED_COLUMNS: Final = ("item_id", "click")
OPTIONAL_COLUMNS: Final = ("position", "timestamp")
# A project's exported log (``hotdeals export``, ``transactions.csv``) names them otherwise: its
# deal is the item and ``clicked`` the click. Its other columns, old or new, are never read.
EXPORT_NAMES: Final = {"item_id": "bandit_id", "click": "clicked"}
# Events per piece of a project's log: a few MB of arrays, whatever the log's size.
_PIECE = 1 << 18
# Rows fetched per round trip where there is no COPY (SQLite).
_FETCH = 10_000
# A project's events for replay, in time order: the deal, the click (0/1), the slot (0: none).
_EVENTS = (
    "SELECT bandit_id, CASE WHEN clicked THEN 1 ELSE 0 END, coalesce(position, 0) "
    "FROM transactions WHERE project_id = %s ORDER BY timestamp, transaction_id"
)
_EVENT_COLUMNS = ("item", "click", "slot")

Progress = Callable[[int], None]
"""Called with the number of events replayed so far."""


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

    A project's export is read as such a log, its ``bandit_id`` and ``clicked`` being the item
    and the click (:data:`EXPORT_NAMES`). Other columns (the dataset's user features, an
    export's purchases, say) are never parsed, which keeps a wide log cheap to read. Rows are
    put in timestamp order when the log has one (stable, so ties keep the file's order),
    because replay must see events in the order they happened.
    """
    named = _columns(_read_header(path))
    missing = [c for c in REQUIRED_COLUMNS if c not in named]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        raise InvalidRequest(
            f"{path}: missing column(s) {names}; a log needs item_id and click, or an "
            "export's bandit_id and clicked (position and timestamp are optional)"
        )
    wanted = list(named)
    try:
        table = pa_csv.read_csv(
            path, convert_options=pa_csv.ConvertOptions(include_columns=list(named.values()))
        )
    except (pa.ArrowException, OSError) as exc:
        raise InvalidRequest(f"{path}: {_first_line(exc)}") from None
    table = table.rename_columns(wanted)
    if table.num_rows == 0:
        raise InvalidRequest(f"{path}: the log has no events")
    for name in wanted:
        nulls = table.column(name).null_count
        if nulls:
            raise InvalidRequest(f"{path}: column {named[name]!r} has {nulls} empty value(s)")
    items = table.column("item_id").to_numpy()
    clicks = _whole_numbers(path, named["click"], table.column("click"))
    positions = (
        _whole_numbers(path, "position", table.column("position")) if "position" in wanted else None
    )
    if "timestamp" in wanted:
        order = np.argsort(_sort_keys(path, table.column("timestamp")), kind="stable")
        items, clicks = items[order], clicks[order]
        positions = None if positions is None else positions[order]
    return EventLog(str(path), items, clicks, positions)


@dataclass(frozen=True)
class ProjectLog:
    """A uniform project's log, read in one snapshot: what replay must know before the first
    event (from one aggregate), and the session that reads the events after it."""

    project_id: int
    events: int
    items: NDArray[np.int64]
    """The deals the log shows, in increasing id order: the replay's arms."""
    slots: int
    """The last slot any event was shown in, or 0 when the log has no slots (top slot only)."""
    session: Session

    @property
    def source(self) -> str:
        return f"project {self.project_id}"

    def __len__(self) -> int:
        return self.events


@contextmanager
def project_log(engine: Engine, project_id: int) -> Iterator[ProjectLog]:
    """A project's transactions as a replay reads them, all in one snapshot of the database.

    Only a project whose policy is ``uniform`` qualifies: replay is unbiased only when the
    logging policy chose every deal with the same probability, and any learning policy's log
    would credit the deals it already favoured.
    """
    if bulk_reads(engine):  # the aggregate and the events must see the same log
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with Session(engine) as session, session.begin():
        project = require_project(session, project_id)
        if project.policy != "uniform":
            raise InvalidRequest(
                f"project {project_id} uses policy {project.policy!r}; replay is only unbiased "
                "on a log collected by the 'uniform' policy"
            )
        shape = session.execute(
            select(
                Transaction.bandit_id,
                func.count(),
                func.count(Transaction.position),
                func.max(Transaction.position),
            )
            .where(Transaction.project_id == project_id)
            .group_by(Transaction.bandit_id)
            .order_by(Transaction.bandit_id)
        ).all()
        events = sum(int(row[1]) for row in shape)
        if not events:
            raise InvalidRequest(f"project {project_id} has no transactions to replay")
        unknown = events - sum(int(row[2]) for row in shape)
        if 0 < unknown < events:
            raise InvalidRequest(
                f"project {project_id}: {unknown} transaction(s) have no position; replay "
                "needs the slot of every impression or of none"
            )
        items = np.array([row[0] for row in shape], dtype=np.int64)
        slots = max(int(row[3] or 0) for row in shape)
        yield ProjectLog(project_id, events, items, slots, session)


def replay_project(
    log: ProjectLog,
    policy: str,
    *,
    epsilon: float = 0.1,
    seed: int = 0,
    progress: Progress | None = None,
) -> ReplayResult:
    """Replay ``policy`` on a project's log piece by piece; the figures :func:`replay_log` gives
    on the same events at once, for the same seed."""
    chosen = check_policy(policy, epsilon)
    rng = np.random.default_rng(seed)
    with bandit_errors_as_invalid_request(log.source):
        walk = ReplayWalk(chosen, len(log.items), max(log.slots, 1), rng)
        for items, clicks, slots in _pieces(log):
            arms = np.searchsorted(log.items, items)
            if not np.array_equal(log.items[np.minimum(arms, len(log.items) - 1)], items):
                raise InvalidRequest(f"{log.source}: a deal appeared in the log while reading it")
            walk.feed(arms, np.maximum(slots - 1, 0), clicks)
            if progress is not None:
                progress(walk.total)
        return walk.result()


def _pieces(log: ProjectLog) -> Iterator[tuple[NDArray[np.int64], ...]]:
    """The log's events in time order, ``_PIECE`` at a time: deals, clicks, slots (0: none)."""
    connection = log.session.connection()
    if bulk_reads(connection):
        read = pa_csv.ReadOptions(column_names=list(_EVENT_COLUMNS), use_threads=False)
        convert = pa_csv.ConvertOptions(column_types=dict.fromkeys(_EVENT_COLUMNS, pa.int64()))
        for block, _ in copy_blocks(connection, _EVENTS, (log.project_id,), rows=_PIECE, size=None):
            table = pa_csv.read_csv(pa.py_buffer(block), read, convert_options=convert)
            yield tuple(np.asarray(table.column(name).to_numpy()) for name in _EVENT_COLUMNS)
        return
    query = (
        select(
            Transaction.bandit_id,
            case((Transaction.clicked, 1), else_=0),
            func.coalesce(Transaction.position, 0),
        )
        .where(Transaction.project_id == log.project_id)
        .order_by(Transaction.timestamp, Transaction.transaction_id)
        .execution_options(yield_per=_FETCH)
    )
    for partition in log.session.execute(query).partitions():
        events = np.array(partition, dtype=np.int64).reshape(-1, len(_EVENT_COLUMNS))
        yield tuple(events[:, i] for i in range(len(_EVENT_COLUMNS)))


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


def _columns(header: list[str]) -> dict[str, str]:
    """The log's columns the file has, each with its name in the file (an export's names for the
    item and the click when it has those and none of a log's own), for reading and messages."""
    exported = not set(header) & set(REQUIRED_COLUMNS) and set(header) >= {*EXPORT_NAMES.values()}
    names = EXPORT_NAMES if exported else {}
    return {
        column: names.get(column, column)
        for column in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
        if names.get(column, column) in header
    }


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
