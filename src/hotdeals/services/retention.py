"""Retention as a use case: archive and drop the log's partitions older than a limit.

Each partition is its own transaction: exported first when asked (a gzipped CSV of its rows,
written beside its target and moved into place, by PostgreSQL's COPY), then archived and
dropped (:mod:`hotdeals.db.retention`), under the partitions' lock, so that servers retiring
partitions together (``HOTDEALS_RETAIN_DAYS``) take each once. A failure leaves that partition
as it was, and the ones before it gone with their archive: never half a partition. SQLite keeps
every row.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from hotdeals.db.partitions import Partition, list_partitions, lock_partitions
from hotdeals.db.retention import Candidate, archive_partition, candidates

__all__ = ["Retained", "retain"]


@dataclass(frozen=True, slots=True)
class Retained:
    """What retention did with one closed partition."""

    candidate: Candidate
    dropped: bool
    exported_to: Path | None = None


def _export(connection: Connection, partition: Partition, directory: Path) -> Path:
    """The partition's rows as ``<directory>/<partition>.csv.gz``, in id order."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{partition.table.split('.')[-1]}.csv.gz"
    partial = target.with_name(target.name + ".partial")
    driver: Any = connection.connection.driver_connection
    query = (
        f"COPY (SELECT * FROM {partition.table} ORDER BY transaction_id) "  # noqa: S608
        "TO STDOUT WITH (FORMAT csv, HEADER)"
    )
    with gzip.open(partial, "wb") as out, driver.cursor().copy(query) as copy:
        for chunk in copy:
            out.write(bytes(chunk))
    os.replace(partial, target)
    return target


def retain(
    engine: Engine,
    keep: timedelta,
    now: datetime,
    *,
    export_to: Path | None = None,
    dry_run: bool = False,
) -> list[Retained]:
    """Archive and drop every closed partition whose impressions are all older than ``now -
    keep``; report each closed partition (those kept say why). Nothing on SQLite."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.begin() as connection:
        # Under the lock too: read beside another server's DETACH, the scan of a partition and
        # the DETACH of the parent waited for each other (a deadlock PostgreSQL broke).
        lock_partitions(connection)
        found = candidates(connection, now - keep, now)
    done = []
    for candidate in found:
        if not candidate.ready or dry_run:
            done.append(Retained(candidate, dropped=False))
            continue
        with engine.begin() as connection:
            connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
            lock_partitions(connection)  # another server's retention may have taken it since
            if candidate.partition not in list_partitions(connection):
                continue
            where = _export(connection, candidate.partition, export_to) if export_to else None
            archive_partition(connection, candidate.partition)
        done.append(Retained(candidate, dropped=True, exported_to=where))
    return done
