"""The log out of PostgreSQL in bulk: ``COPY (SELECT ...) TO STDOUT`` as CSV, in blocks of rows.

A row fetched as Python objects costs about 15 microseconds (the driver's tuple, SQLAlchemy's
row, a formatter), which is minutes at 10M rows; ``COPY`` lets the server write the text and
the client only joins bytes: exports write the blocks as they come, and the Parquet export and
replay parse them with Arrow's CSV reader. A block always ends on a row's end (each COPY
message is one row), so it is parsed on its own and rows are counted exactly. Only PostgreSQL
(through psycopg) has it: :func:`bulk_reads` says when it applies.
"""

from __future__ import annotations

import select
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final

import psycopg
from psycopg import pq
from sqlalchemy import Connection, Engine, text

__all__ = ["BLOCK_BYTES", "bulk_reads", "copy_blocks", "iso_utc"]

BLOCK_BYTES: Final = 1 << 20
"""A block's size unless told: large enough to amortise a write or a parse, small enough to
bound memory whatever the log's size."""

Progress = Callable[[int], None]
"""Called with the number of rows read so far, once per block."""

# Every read in bulk is an analyst's job (an export, a replay), not a request: no statement
# timeout, and timestamps, dates and text in one known form whatever the session's settings.
# SET LOCAL, so that they hold behind PgBouncer in transaction mode too and end with the read.
_SETTINGS: Final = (
    "SET LOCAL statement_timeout = 0",
    "SET LOCAL TIME ZONE 'UTC'",
    "SET LOCAL DateStyle = 'ISO, YMD'",
    "SET LOCAL client_encoding = 'UTF8'",
)


def bulk_reads(bind: Engine | Connection) -> bool:
    """Whether :func:`copy_blocks` can read through ``bind``: PostgreSQL, which has COPY."""
    return bind.dialect.name == "postgresql"


def iso_utc(column: str) -> str:
    """SQL for the ``timestamptz`` ``column`` as Python's ``datetime.isoformat()`` writes it in
    UTC: ``2026-11-20T09:30:00.123456+00:00``, without the fraction when it is zero; NULL stays
    NULL (an empty CSV cell)."""
    pattern = 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'
    return f"replace(to_char({column} AT TIME ZONE 'UTC', '{pattern}'), '.000000+', '+')"


def copy_blocks(
    connection: Connection,
    query: str,
    params: Sequence[object] | Mapping[str, object] = (),
    *,
    rows: int | None = None,
    size: int | None = BLOCK_BYTES,
    progress: Progress | None = None,
) -> Iterator[tuple[bytes, int]]:
    """``COPY (query) TO STDOUT`` as CSV in ``connection``'s transaction: yield each block of
    whole rows (``rows`` of them, or about ``size`` bytes, whichever comes first) with its
    number of rows.

    ``query`` takes psycopg's placeholders (``%s``), bound on the client. The transaction's
    settings are changed (``SET LOCAL``, :data:`_SETTINGS`), so it should be the read's own.
    """
    for setting in _SETTINGS:
        connection.execute(text(setting))
    raw = connection.connection.driver_connection
    assert raw is not None, "a connection that is open has its driver's connection"
    statement = f"COPY ({query}) TO STDOUT (FORMAT csv)"
    limit = size if size is not None else float("inf")
    done = 0
    with raw.cursor() as cursor, cursor.copy(statement, params):
        pgconn = raw.pgconn
        # Rows are copied into one buffer as they come: a buffer object kept per row would be
        # tracked by the garbage collector, whose passes then cost more than the COPY itself.
        block = bytearray()
        count = 0
        while True:
            # libpq directly: psycopg's reader costs a generator and a wait per message.
            got, part = pgconn.get_copy_data(1)
            if got > 0:  # one message, one row
                block += part
                count += 1
                if len(block) >= limit or count == rows:
                    done += count
                    yield bytes(block), count
                    if progress is not None:
                        progress(done)
                    block.clear()
                    count = 0
            elif got == 0:  # nothing buffered yet: wait for the socket without the GIL
                select.select([pgconn.socket], [], [])
                pgconn.consume_input()
            else:  # -1: the data has ended; its result (COMMAND_OK or the error) follows
                _finish(raw)
                break
        if count:
            done += count
            yield bytes(block), count
    if progress is not None:
        progress(done)


def _finish(raw: Any) -> None:
    """Read the COPY's closing result like psycopg would: an error raises as psycopg's."""
    pgconn = raw.pgconn
    results = []
    while True:
        pgconn.consume_input()
        if pgconn.is_busy():
            select.select([pgconn.socket], [], [])
            continue
        result = pgconn.get_result()
        if result is None:
            break
        results.append(result)
    for result in results:
        if result.status != pq.ExecStatus.COMMAND_OK:
            raise psycopg.errors.error_from_result(result, encoding=raw.info.encoding)
