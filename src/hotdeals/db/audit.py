"""The audit of the counters against the transactions log, and their repair from it.

For every bandit, with its own prior, the log says what its counters must be:
``n = count(its transactions)``, ``number_of_success = count(its clicked transactions)``,
``number_of_failures = n - number_of_success``, ``alpha = prior_alpha + number_of_success`` and
``beta = prior_beta + number_of_failures``; every project's ``number_of_bandits`` is the count of
its bandits; each deal's purchases, their value and the sums of their log values (and squares)
are its rows of ``purchases``, and so are each impression's purchases and value; each
``bandit_positions`` row counts its deal's impressions and first clicks in its
slot (``position``), and a pair the log has must have its row; in a campaign with a half-life,
each deal's discounted impressions and clicks are the log's events weighted by their age
(:mod:`hotdeals.db.discounted`); each ``deal_hours`` row counts its deal's impressions of its
hour and what they led to (:mod:`hotdeals.db.rollup_audit`). ``hotdeals db-check`` reports
every disagreement and ``--repair`` rebuilds the counters; the hot path that keeps them exact is
:mod:`hotdeals.db.counters`. The log is read once for all of them (:func:`scan_log`: pass its
totals to both functions), and once more for campaigns that forget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import CursorResult, delete, func, insert, select, tuple_, update
from sqlalchemy.orm import Session

from hotdeals.db.discounted import discounted_mismatches, repair_discounted
from hotdeals.db.log_totals import LogTotals, scan_log
from hotdeals.db.models import Bandit, Project
from hotdeals.db.purchase_audit import (
    PURCHASE_SUMS,
    purchase_sums,
    repair_summaries,
    summary_mismatches,
)
from hotdeals.db.rollup_audit import KEYS_PER_STATEMENT, hour_mismatches, repair_hours
from hotdeals.db.service_tables import BanditPosition
from hotdeals.db.types import utcnow

__all__ = ["LogTotals", "Mismatch", "find_mismatches", "repair_counters", "scan_log"]


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A stored counter that disagrees with what the transactions log says it must be."""

    table: str
    row_id: int
    name: str
    column: str
    stored: float
    expected: float

    def __str__(self) -> str:
        return (
            f"{self.table} {self.row_id} ({self.name!r}): {self.column} is {self.stored:g}, "
            f"the log says {self.expected:g}"
        )


_TOLERANCE = 1e-6


def _differs(stored: float, expected: float) -> bool:
    """Beyond rounding: the log-value sums are floats added one purchase at a time."""
    return abs(stored - expected) > _TOLERANCE * max(1.0, abs(expected))


def _expected_counters(
    session: Session, project_ids: Sequence[int] | None, totals: LogTotals
) -> list[tuple[Bandit, dict[str, float]]]:
    """Each bandit with the counters its log and its own prior say it must have."""
    bought = purchase_sums().subquery()
    query = (
        select(Bandit, *(func.coalesce(bought.c[name], 0) for name in PURCHASE_SUMS))
        .outerjoin(bought, bought.c.bandit_id == Bandit.bandit_id)
        .order_by(Bandit.bandit_id)
    )
    if project_ids is not None:
        query = query.where(Bandit.project_id.in_(project_ids))
    expected = []
    for bandit, *logged in session.execute(query):
        n, success = totals.deals.get(bandit.bandit_id, (0, 0))
        count, value, logs, squares = totals.archived_purchases.get(
            bandit.bandit_id, (0, Decimal(0), 0.0, 0.0)
        )
        archived = (float(count), float(value), logs, squares)
        sums = [float(a) + b for a, b in zip(logged, archived, strict=True)]
        counters = {
            "n": n,
            "number_of_success": success,
            "number_of_failures": n - success,
            "alpha": bandit.prior_alpha + success,
            "beta": bandit.prior_beta + n - success,
            **{name: float(total) for name, total in zip(PURCHASE_SUMS, sums, strict=True)},
        }
        expected.append((bandit, counters))
    return expected


def find_mismatches(
    session: Session, project_ids: Sequence[int] | None = None, totals: LogTotals | None = None
) -> list[Mismatch]:
    """Check every counter of the accounting against the transactions log (its ``totals``:
    scanned here unless given).

    Aggregates run in the database; only one row per deal, slot, hour and project comes back.
    """
    totals = totals if totals is not None else scan_log(session, project_ids)
    mismatches: list[Mismatch] = []
    for bandit, expected in _expected_counters(session, project_ids, totals):
        for column, want in expected.items():
            stored = float(getattr(bandit, column))
            if _differs(stored, want):
                mismatches.append(
                    Mismatch("bandits", bandit.bandit_id, bandit.bandit_name, column, stored, want)
                )
    arms = (
        select(Bandit.project_id, func.count().label("arms")).group_by(Bandit.project_id).subquery()
    )
    projects = select(Project, func.coalesce(arms.c.arms, 0)).outerjoin(
        arms, arms.c.project_id == Project.project_id
    )
    if project_ids is not None:
        projects = projects.where(Project.project_id.in_(project_ids))
    mismatches += _slot_mismatches(session, project_ids, totals)
    names = _names(session)
    mismatches += [
        Mismatch("deal_hours", b, f"{names.get(b, '?')} at {hour:%Y-%m-%d %H:00} UTC", c, s, e)
        for b, hour, c, s, e in hour_mismatches(session, project_ids, totals)
    ]
    mismatches += [
        Mismatch("transactions", transaction_id, "impression", column, stored, expected)
        for transaction_id, column, stored, expected in summary_mismatches(session, project_ids)
    ]
    mismatches += [
        Mismatch("bandits", bandit.bandit_id, bandit.bandit_name, column, stored, expected)
        for bandit, column, stored, expected in discounted_mismatches(
            session, project_ids, utcnow().timestamp()
        )
    ]
    for project, count in session.execute(projects.order_by(Project.project_id)):
        if project.number_of_bandits != count:
            mismatches.append(
                Mismatch(
                    "projects",
                    project.project_id,
                    project.project_name,
                    "number_of_bandits",
                    project.number_of_bandits,
                    count,
                )
            )
    return mismatches


def repair_counters(
    session: Session, project_ids: Sequence[int] | None = None, totals: LogTotals | None = None
) -> int:
    """Rebuild every counter from the log (``db-check --repair``; its ``totals``: scanned here
    unless given); return how many rows changed.

    Bandits are written in id order like every other counter update, so a repair running beside
    live traffic cannot deadlock with it; the caller should still repair in a quiet moment,
    since impressions logged during the repair's own transaction are not seen by it.
    """
    totals = totals if totals is not None else scan_log(session, project_ids)
    changed = _repair_slots(session, project_ids, totals)
    changed += repair_hours(session, project_ids, totals)
    changed += repair_summaries(session, project_ids)
    changed += repair_discounted(session, project_ids, utcnow().timestamp())
    rewritten = [
        {"bandit_id": bandit.bandit_id, **values}
        for bandit, values in _expected_counters(session, project_ids, totals)
        if any(_differs(float(getattr(bandit, c)), v) for c, v in values.items())
    ]
    if rewritten:  # by primary key, in one batched statement (executemany)
        session.execute(update(Bandit), sorted(rewritten, key=lambda row: row["bandit_id"]))
    changed += len(rewritten)
    counts = (
        select(func.count())
        .where(Bandit.project_id == Project.project_id)
        .correlate(Project)
        .scalar_subquery()
    )
    stale = (
        update(Project).where(Project.number_of_bandits != counts).values(number_of_bandits=counts)
    )
    if project_ids is not None:
        stale = stale.where(Project.project_id.in_(project_ids))
    result = session.execute(stale)
    assert isinstance(result, CursorResult)
    changed += result.rowcount
    return changed


def _names(session: Session) -> dict[int, str]:
    rows = session.execute(select(Bandit.bandit_id, Bandit.bandit_name)).all()
    return {int(row.bandit_id): str(row.bandit_name) for row in rows}


def _slot_counts(
    session: Session, project_ids: Sequence[int] | None, totals: LogTotals
) -> tuple[dict[tuple[int, int], tuple[int, int]], dict[tuple[int, int], tuple[int, int]]]:
    """Per ``(bandit_id, position)``: (impressions, clicks) as the log says and as stored."""
    stored = select(
        BanditPosition.bandit_id,
        BanditPosition.position,
        BanditPosition.impressions,
        BanditPosition.clicks,
    )
    if project_ids is not None:
        stored = stored.join(Bandit, Bandit.bandit_id == BanditPosition.bandit_id).where(
            Bandit.project_id.in_(project_ids)
        )
    have = {(b, p): (int(n), int(c)) for b, p, n, c in session.execute(stored)}
    return totals.slots, have


def _slot_mismatches(
    session: Session, project_ids: Sequence[int] | None, totals: LogTotals
) -> list[Mismatch]:
    want, have = _slot_counts(session, project_ids, totals)
    names = _names(session)
    found = []
    for bandit_id, position in sorted(set(want) | set(have)):
        expected = want.get((bandit_id, position), (0, 0))
        stored = have.get((bandit_id, position), (0, 0))
        for column, wanted, got in zip(("impressions", "clicks"), expected, stored, strict=True):
            if wanted != got:
                name = f"{names.get(bandit_id, '?')} in slot {position}"
                found.append(Mismatch("bandit_positions", bandit_id, name, column, got, wanted))
    return found


def _repair_slots(session: Session, project_ids: Sequence[int] | None, totals: LogTotals) -> int:
    """Rewrite every deal-slot row that disagrees with the log; return how many changed."""
    want, have = _slot_counts(session, project_ids, totals)
    wrong = sorted(pair for pair in set(want) | set(have) if want.get(pair) != have.get(pair))
    pairs = tuple_(BanditPosition.bandit_id, BanditPosition.position)
    for start in range(0, len(wrong), KEYS_PER_STATEMENT):
        chunk = wrong[start : start + KEYS_PER_STATEMENT]
        session.execute(delete(BanditPosition).where(pairs.in_(chunk)))
    rows = [
        {"bandit_id": b, "position": p, "impressions": want[(b, p)][0], "clicks": want[(b, p)][1]}
        for b, p in wrong
        if (b, p) in want
    ]
    if rows:
        session.execute(insert(BanditPosition), rows)
    return len(wrong)
