"""The hot-path writes of the accounting: impressions, counts and clicks, as atomic SQL.

This is the only code that changes a bandit's counters on live traffic (their audit against the
log and their repair are :mod:`hotdeals.db.audit`). Every change is ``SET n = n + :k`` in the
database, never read-modify-write in Python, so that concurrent workers cannot lose an update.
When several bandits are touched in one database transaction they are updated in ``bandit_id``
order, so two transactions never wait on each other's locks in opposite orders (no deadlocks).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, delete, insert, literal_column, or_, select, update
from sqlalchemy.orm import Session

from hotdeals.db.discounted import EventTimes, apply_discounted
from hotdeals.db.models import Base, Project, Transaction
from hotdeals.db.rollups import HourCounts, apply_counts_by_slot_and_hour, hour_of
from hotdeals.db.slot_counters import Slot
from hotdeals.db.types import utcnow
from hotdeals.errors import TransactionNotFound
from hotdeals.vocabulary import ProjectStatus

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
    position: int | None = None
    shown_at: datetime | None = None  # the impression's time: its rollup hour


def log_impressions(
    session: Session, impressions: Sequence[Impression], now: datetime | None = None
) -> list[int]:
    """Insert the impressions and count them on their bandits; return the new transaction ids.

    Impressions without a timestamp are logged at ``now`` (default: the clock)."""
    now = now or utcnow()
    ids = insert_impressions(session, impressions, now)
    count_events(session, impressions, [], now)
    return ids


def count_events(
    session: Session,
    impressions: Sequence[Impression],
    outcomes: Sequence[ClickOutcome | None],
    now: datetime,
) -> dict[int, BanditState]:
    """Count logged impressions and first clicks everywhere they are counted: the deals' exact
    counters, their slots', their hours' rollups and, in campaigns that forget, their discounted
    state. Impressions without a timestamp and the first clicks are taken to happen at ``now``
    (as they were logged). Returns whether each touched deal may still be shown
    (:func:`apply_counts`)."""
    clicked = first_clicks(outcomes)
    states = apply_counts(session, shown=Counter(i.bandit_id for i in impressions), clicked=clicked)
    forgetting = {b: s.half_life_hours for b, s in states.items() if s.half_life_hours}
    if forgetting:
        at = now.timestamp()
        times = EventTimes()
        for i in impressions:
            if i.bandit_id in forgetting:
                times.shown[i.bandit_id].append(i.timestamp.timestamp() if i.timestamp else at)
        for b, count in clicked.items():
            if b in forgetting:
                times.clicked[b].extend([at] * count)
        apply_discounted(session, forgetting, times)
    apply_counts_by_slot_and_hour(
        session,
        shown_slots(impressions),
        first_slot_clicks(outcomes),
        hour_counts(impressions, outcomes, now),
    )
    return states


def hour_counts(
    impressions: Sequence[Impression], outcomes: Sequence[ClickOutcome | None], now: datetime
) -> HourCounts:
    """Impressions and first clicks per deal and hour of the impression (``now`` when the
    impression has no time of its own, as it is logged)."""
    counts = HourCounts()
    hours = {now: hour_of(now)}  # a batch's impressions share its time: one conversion

    def hour(at: datetime | None) -> datetime:
        at = at or now
        if at not in hours:
            hours[at] = hour_of(at)
        return hours[at]

    for i in impressions:
        counts.impressions[(i.bandit_id, i.project_id, hour(i.timestamp))] += 1
    for o in outcomes:
        if o is not None and not o.already_recorded:
            counts.clicks[(o.bandit_id, o.project_id, hour(o.shown_at))] += 1
    return counts


def shown_slots(impressions: Sequence[Impression]) -> Counter[Slot]:
    """Impressions per deal and slot (those logged without a slot are not counted per slot)."""
    return Counter((i.bandit_id, i.position) for i in impressions if i.position is not None)


def insert_impressions(
    session: Session, impressions: Sequence[Impression], now: datetime
) -> list[int]:
    """One multi-row INSERT for any number of impressions (those without a timestamp at
    ``now``); ids come back in input order.

    Counters are not touched: the caller adds them with :func:`count_events` in the same
    transaction, once for everything it wrote.
    """
    if not impressions:
        return []
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


def discard_impressions(session: Session, transaction_ids: Sequence[int]) -> None:
    """Delete impressions inserted earlier in this transaction and not yet counted (a keyed
    ranking that turned out to be a retry: the earlier ranking answers it). The counters never
    saw them, so the accounting is unchanged; their ids are simply never used."""
    if transaction_ids:
        session.execute(
            delete(TRANSACTIONS).where(TRANSACTIONS.c.transaction_id.in_(transaction_ids))
        )


@dataclass(frozen=True, slots=True)
class BanditState:
    """Whether a deal may still be shown: it is active and its project serves ranks (running,
    or ended with a winner: a rollout). Schedules are the snapshot's to enforce."""

    active: bool
    project_serves: bool
    half_life_hours: float | None = None

    @property
    def live(self) -> bool:
        return self.active and self.project_serves


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
    # Written out qualified: SQLAlchemy renders RETURNING's columns bare on SQLite, and a bare
    # ``project_id = project_id`` inside the subquery would compare projects with themselves
    # (every deal would read the first project's state).
    own_project = Project.project_id == literal_column("bandits.project_id")
    serves = (
        select(
            or_(
                Project.status == ProjectStatus.RUNNING.value,
                Project.winner_bandit_id.is_not(None),  # named only on ending: a rollout
            )
        )
        .where(own_project)
        .scalar_subquery()
    )
    half_life = select(Project.half_life_hours).where(own_project).scalar_subquery()
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
        .returning(
            table.bandit_id, table.active, serves.label("serves"), half_life.label("half_life")
        )
    )
    return {row.bandit_id: BanditState(row.active, bool(row.serves), row.half_life) for row in rows}


def record_click(session: Session, transaction_id: int, at: datetime | None = None) -> ClickOutcome:
    """Mark an impression clicked, once; a repeated click changes nothing and says so."""
    at = at or utcnow()
    outcome = mark_clicked(session, [transaction_id], at)[0]
    if outcome is None:
        raise TransactionNotFound(f"transaction {transaction_id} does not exist")
    count_events(session, [], [outcome], at)
    return outcome


def first_clicks(outcomes: Sequence[ClickOutcome | None]) -> Counter[int]:
    """How many clicks per bandit were first clicks, i.e. must be counted."""
    return Counter(o.bandit_id for o in outcomes if o is not None and not o.already_recorded)


def first_slot_clicks(outcomes: Sequence[ClickOutcome | None]) -> Counter[Slot]:
    """How many first clicks per deal and slot (on impressions logged with a slot)."""
    return Counter(
        (o.bandit_id, o.position)
        for o in outcomes
        if o is not None and not o.already_recorded and o.position is not None
    )


def mark_clicked(
    session: Session, transaction_ids: Sequence[int], at: datetime
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
            .values(clicked=True, clicked_at=at)
            .returning(
                Transaction.transaction_id,
                Transaction.bandit_id,
                Transaction.project_id,
                Transaction.position,
                Transaction.timestamp,
            )
        )
    }
    others = [i for i in unique if i not in won]
    earlier = (
        {
            row.transaction_id: row
            for row in session.execute(
                select(
                    Transaction.transaction_id,
                    Transaction.bandit_id,
                    Transaction.project_id,
                    Transaction.position,
                    Transaction.timestamp,
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
            ClickOutcome(
                transaction_id, row.bandit_id, row.project_id, not new, row.position, row.timestamp
            )
        )
    return outcomes
