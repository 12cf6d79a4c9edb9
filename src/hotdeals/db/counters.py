"""The accounting of DESIGN.md as atomic SQL, the only code that changes a bandit's counters.

Every change is ``SET n = n + :k`` in the database, never read-modify-write in Python, so that
concurrent workers cannot lose an update. When several bandits are touched in one database
transaction they are updated in ``bandit_id`` order, so two transactions never wait on each
other's locks in opposite orders (no deadlocks).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, CursorResult, case, func, insert, select, update
from sqlalchemy.orm import Session

from hotdeals.db.models import Bandit, Base, Project, Transaction
from hotdeals.db.types import utcnow
from hotdeals.errors import TransactionNotFound

# Core tables for the hot writes: no ORM bookkeeping per row.
TRANSACTIONS = Base.metadata.tables["transactions"]
BANDITS = Base.metadata.tables["bandits"]


@dataclass(frozen=True, slots=True)
class Impression:
    """One deal shown in one slot to one customer."""

    customer_id: int
    project_id: int
    bandit_id: int
    position: int | None = None
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class ClickOutcome:
    """What a click did: ``already_recorded`` is true when an earlier click was counted."""

    transaction_id: int
    bandit_id: int
    project_id: int
    already_recorded: bool


def log_impressions(session: Session, impressions: Sequence[Impression]) -> list[int]:
    """Insert the impressions and count them on their bandits; return the new transaction ids."""
    ids = insert_impressions(session, impressions)
    apply_counts(session, shown=Counter(i.bandit_id for i in impressions))
    return ids


def insert_impressions(session: Session, impressions: Sequence[Impression]) -> list[int]:
    """One multi-row INSERT for any number of impressions; ids come back in input order.

    Counters are not touched: the caller adds them with :func:`apply_counts` in the same
    transaction, once for everything it wrote.
    """
    if not impressions:
        return []
    now = utcnow()
    rows = [
        {
            "customer_id": i.customer_id,
            "project_id": i.project_id,
            "bandit_id": i.bandit_id,
            "position": i.position,
            "timestamp": i.timestamp or now,
            "clicked": False,
        }
        for i in impressions
    ]
    ids = session.scalars(
        insert(TRANSACTIONS).returning(TRANSACTIONS.c.transaction_id, sort_by_parameter_order=True),
        rows,
    ).all()
    return list(ids)


@dataclass(frozen=True, slots=True)
class BanditState:
    """Whether a deal may still be shown: it is active and its project is running."""

    active: bool
    project_status: str

    @property
    def live(self) -> bool:
        return self.active and self.project_status == "running"


def apply_counts(
    session: Session, *, shown: Counter[int] | None = None, clicked: Counter[int] | None = None
) -> dict[int, BanditState]:
    """Add ``shown[b]`` impressions and ``clicked[b]`` first clicks to each deal ``b``; return
    whether each touched deal may still be shown, as of this transaction.

    One statement for every touched deal. Its subquery locks the counter rows in ``bandit_id``
    order before they are updated, so concurrent writers queue behind each other but never
    deadlock, and the hot rows stay locked for one round trip and the commit. (SQLite has no
    row locks; its single writer lock serialises writers anyway.) The increments are SQL
    (``n = n + ...``), never values computed in Python, so no concurrent update is lost.
    """
    shown, clicked = shown or Counter(), clicked or Counter()
    ids = sorted(set(shown) | set(clicked))
    if not ids:
        return {}
    table = BANDITS.c
    status = select(Project.status).where(Project.project_id == table.project_id).scalar_subquery()
    locked = (
        select(table.bandit_id)
        .where(table.bandit_id.in_(ids))
        .order_by(table.bandit_id)
        .with_for_update(key_share=True)
        .subquery("locked")
    )
    new = case({b: shown[b] for b in ids}, value=table.bandit_id, else_=0)
    won = case({b: clicked[b] for b in ids}, value=table.bandit_id, else_=0)
    lost = case({b: shown[b] - clicked[b] for b in ids}, value=table.bandit_id, else_=0)
    rows = session.execute(
        update(BANDITS)
        .where(table.bandit_id == locked.c.bandit_id)
        .values(
            n=table.n + new,
            number_of_success=table.number_of_success + won,
            number_of_failures=table.number_of_failures + lost,
            alpha=table.alpha + won,
            beta=table.beta + lost,
        )
        .returning(table.bandit_id, table.active, status.label("status"))
    )
    return {row.bandit_id: BanditState(row.active, row.status) for row in rows}


def record_click(session: Session, transaction_id: int, at: datetime | None = None) -> ClickOutcome:
    """Mark an impression clicked, once; a repeated click changes nothing and says so."""
    outcome = mark_clicked(session, [transaction_id], at)[0]
    if outcome is None:
        raise TransactionNotFound(f"transaction {transaction_id} does not exist")
    apply_counts(session, clicked=first_clicks([outcome]))
    return outcome


def first_clicks(outcomes: Sequence[ClickOutcome | None]) -> Counter[int]:
    """How many clicks per bandit were first clicks, i.e. must be counted."""
    return Counter(o.bandit_id for o in outcomes if o is not None and not o.already_recorded)


def mark_clicked(
    session: Session, transaction_ids: Sequence[int], at: datetime | None = None
) -> list[ClickOutcome | None]:
    """Flag the impressions clicked, leaving the counters to :func:`apply_counts`.

    The conditional UPDATE (``WHERE clicked = false``) lets exactly one of several concurrent
    clicks on the same impression win, so a click is never counted twice; an id repeated in
    one call counts once and its later copies say ``already_recorded``.
    """
    unique = sorted(set(transaction_ids))
    won = {
        row.transaction_id: row
        for row in session.execute(
            update(Transaction)
            .where(Transaction.transaction_id.in_(unique), Transaction.clicked.is_(False))
            .values(clicked=True, clicked_at=at or utcnow())
            .returning(Transaction.transaction_id, Transaction.bandit_id, Transaction.project_id)
        )
    }
    others = [i for i in unique if i not in won]
    earlier = (
        {
            row.transaction_id: row
            for row in session.execute(
                select(
                    Transaction.transaction_id, Transaction.bandit_id, Transaction.project_id
                ).where(Transaction.transaction_id.in_(others))
            )
        }
        if others
        else {}
    )
    outcomes: list[ClickOutcome | None] = []
    first_seen: set[int] = set()
    for transaction_id in transaction_ids:
        row = won.get(transaction_id) or earlier.get(transaction_id)
        if row is None:
            outcomes.append(None)
            continue
        new = transaction_id in won and transaction_id not in first_seen
        first_seen.add(transaction_id)
        outcomes.append(
            ClickOutcome(transaction_id, row.bandit_id, row.project_id, already_recorded=not new)
        )
    return outcomes


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


def _clicked_as_int() -> ColumnElement[int]:
    return func.coalesce(func.sum(case((Transaction.clicked, 1), else_=0)), 0)


def _expected_counters(
    session: Session, project_ids: Sequence[int] | None
) -> list[tuple[Bandit, dict[str, float]]]:
    """Each bandit with the counters its log and its project's prior say it must have."""
    log = (
        select(
            Transaction.bandit_id.label("bandit_id"),
            func.count().label("n"),
            _clicked_as_int().label("success"),
        )
        .group_by(Transaction.bandit_id)
        .subquery()
    )
    query = (
        select(
            Bandit,
            func.coalesce(log.c.n, 0),
            func.coalesce(log.c.success, 0),
            Project.prior_alpha,
            Project.prior_beta,
        )
        .join(Project, Project.project_id == Bandit.project_id)
        .outerjoin(log, log.c.bandit_id == Bandit.bandit_id)
        .order_by(Bandit.bandit_id)
    )
    if project_ids is not None:
        query = query.where(Bandit.project_id.in_(project_ids))
    return [
        (
            bandit,
            {
                "n": int(n),
                "number_of_success": int(success),
                "number_of_failures": int(n) - int(success),
                "alpha": prior_alpha + int(success),
                "beta": prior_beta + int(n) - int(success),
            },
        )
        for bandit, n, success, prior_alpha, prior_beta in session.execute(query)
    ]


def find_mismatches(session: Session, project_ids: Sequence[int] | None = None) -> list[Mismatch]:
    """Check every counter of DESIGN.md's accounting against the transactions log.

    Aggregates run in the database; only one row per bandit and per project comes back.
    """
    mismatches: list[Mismatch] = []
    for bandit, expected in _expected_counters(session, project_ids):
        for column, want in expected.items():
            stored = float(getattr(bandit, column))
            if abs(stored - want) > _TOLERANCE:
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


def repair_counters(session: Session, project_ids: Sequence[int] | None = None) -> int:
    """Rebuild every counter from the log (``db-check --repair``); return how many rows changed.

    Bandits are written in id order like every other counter update, so a repair running beside
    live traffic cannot deadlock with it; the caller should still repair in a quiet moment,
    since impressions logged during the repair's own transaction are not seen by it.
    """
    changed = 0
    for bandit, values in _expected_counters(session, project_ids):
        if any(abs(float(getattr(bandit, c)) - v) > _TOLERANCE for c, v in values.items()):
            session.execute(
                update(Bandit).where(Bandit.bandit_id == bandit.bandit_id).values(values)
            )
            changed += 1
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
