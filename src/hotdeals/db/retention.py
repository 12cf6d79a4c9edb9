"""Retention on PostgreSQL: a partition of the log leaves only once archived, in one transaction.

A partition may go when every impression in it is older than the retention, when it is not the
range receiving ids, and when no campaign that forgets still weighs its events (30 half-lives:
a weight below 1e-9, far under ``db-check``'s tolerance for the discounted sums, which are rebuilt
from the retained log alone). Going means, in one transaction: checking that the hour rollups
hold at least the partition's figures (they are written with the rows, so they always should),
adding the partition's figures per deal, slot and hour to ``archived_log`` (purchases, their
value and log sums from the purchases log), deleting those purchases, detaching and dropping the
partition. Every invariant then reads "archived + retained = counters" (:mod:`.log_totals`);
the rollups stay as they are, for the charts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, text

from hotdeals.db.partitions import Partition, list_partitions, next_id

__all__ = ["HALF_LIVES_KEPT", "Candidate", "archive_partition", "candidates"]

HALF_LIVES_KEPT = 30
_HOUR = "date_trunc('hour', t.timestamp, 'UTC')"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A closed partition, its newest impression, and whether retention may take it now."""

    partition: Partition
    newest: datetime | None
    rows: int
    ready: bool
    reason: str


def candidates(connection: Connection, before: datetime, now: datetime) -> list[Candidate]:
    """Every closed partition (all its ids handed out already), oldest first, judged at ``now``
    against ``before`` (the oldest time retention keeps)."""
    upcoming = next_id(connection)
    found = []
    for partition in list_partitions(connection):
        if partition.high is None or partition.high > upcoming:
            continue  # the range receiving ids, and those ahead of it
        newest, rows, half_life = connection.execute(
            text(
                "SELECT max(t.timestamp), count(*), max(p.half_life_hours) "  # noqa: S608
                f"FROM {partition.table} t LEFT JOIN projects p ON p.project_id = t.project_id"
            )
        ).one()
        ready, reason = rows > 0, "older than the retention" if rows else "empty: nothing to do"
        if rows and newest >= before:
            ready, reason = False, f"holds impressions up to {newest:%Y-%m-%d %H:%M} UTC"
        elif rows and half_life is not None:
            weighs_until = newest + timedelta(hours=HALF_LIVES_KEPT * float(half_life))
            if weighs_until > now:
                ready = False
                reason = (
                    f"a campaign with a half-life of {float(half_life):g} h weighs its events "
                    f"until {weighs_until:%Y-%m-%d %H:%M} UTC ({HALF_LIVES_KEPT} half-lives)"
                )
        found.append(Candidate(partition, newest, int(rows), ready, reason))
    return found


_SHORT_ROLLUPS = """
SELECT count(*) FROM (
    SELECT t.bandit_id, HOUR AS hour, count(*) AS shown,
           sum(CASE WHEN t.clicked THEN 1 ELSE 0 END) AS clicked
    FROM TABLE t GROUP BY t.bandit_id, HOUR
) a LEFT JOIN deal_hours d ON d.bandit_id = a.bandit_id AND d.hour = a.hour
WHERE d.bandit_id IS NULL OR d.impressions < a.shown OR d.clicks < a.clicked
"""
_ARCHIVE = """
INSERT INTO archived_log AS k (bandit_id, position, hour, impressions, clicks, purchases,
    purchase_value, log_value_sum, log_value_square_sum)
SELECT t.bandit_id, coalesce(t.position, 0), HOUR, count(*),
       sum(CASE WHEN t.clicked THEN 1 ELSE 0 END), coalesce(sum(b.n), 0),
       coalesce(sum(b.value), 0), coalesce(sum(b.logs), 0), coalesce(sum(b.squares), 0)
FROM TABLE t LEFT JOIN (
    SELECT transaction_id, count(*) AS n, sum(value) AS value, sum(ln(value)) AS logs,
           sum(ln(value) * ln(value)) AS squares
    FROM purchases WHERE transaction_id >= :low AND transaction_id < :high
    GROUP BY transaction_id
) b ON b.transaction_id = t.transaction_id
GROUP BY t.bandit_id, coalesce(t.position, 0), HOUR
ON CONFLICT (bandit_id, position, hour) DO UPDATE SET
    impressions = k.impressions + excluded.impressions,
    clicks = k.clicks + excluded.clicks,
    purchases = k.purchases + excluded.purchases,
    purchase_value = k.purchase_value + excluded.purchase_value,
    log_value_sum = k.log_value_sum + excluded.log_value_sum,
    log_value_square_sum = k.log_value_square_sum + excluded.log_value_square_sum
"""


def archive_partition(connection: Connection, partition: Partition) -> None:
    """Archive ``partition``'s figures and drop it, in the caller's transaction (see the module
    docstring); :class:`RuntimeError` when the rollups do not cover it (nothing changed)."""
    if partition.high is None:
        raise ValueError(f"{partition.table} is open-ended: it receives ids")
    bounds = {"low": partition.low if partition.low is not None else 0, "high": partition.high}

    def sql(template: str) -> str:
        return template.replace("HOUR", _HOUR).replace("TABLE", partition.table)

    short = connection.execute(text(sql(_SHORT_ROLLUPS))).scalar_one()
    if short:
        raise RuntimeError(
            f"{partition.table}: {short} deal-hour rollup(s) hold less than the partition; "
            "run hotdeals db-check --repair first"
        )
    connection.execute(text(sql(_ARCHIVE)), bounds)
    connection.execute(
        text("DELETE FROM purchases WHERE transaction_id >= :low AND transaction_id < :high"),
        bounds,
    )
    connection.execute(text(f"ALTER TABLE transactions DETACH PARTITION {partition.table}"))
    connection.execute(text(f"DROP TABLE {partition.table}"))
