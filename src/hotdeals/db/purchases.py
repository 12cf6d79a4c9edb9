"""The writes of a purchase: its row in the log, the impression's and the deal's counters.

A purchase is reported on an impression (its transaction). It is logged once per order
(``order_id``, '' when the shop gives none) by the primary key of ``purchases``; a repeated
report inserts nothing and changes nothing. A purchase implies the click: an impression not yet
clicked is clicked by it, counted exactly as a click is (:func:`hotdeals.db.counters.count_events`).
Purchases are rare next to impressions, so each one is its own database transaction on the
exact path rather than a job of the group commit.

Locks come in the order every other writer takes them (the impression's row, then the deal's),
so a purchase racing a click of the same impression waits for it and never deadlocks with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hotdeals.db.counters import count_events, mark_clicked
from hotdeals.db.models import Bandit, Transaction
from hotdeals.db.rollups import HourCounts, apply_hour_counts, hour_of
from hotdeals.db.service_tables import Purchase
from hotdeals.errors import TransactionNotFound

__all__ = ["PurchaseEvent", "PurchaseOutcome", "record_purchase"]


@dataclass(frozen=True, slots=True)
class PurchaseEvent:
    """One purchase as reported: its total ``value`` (> 0), ``quantity`` and shop ``order_id``."""

    value: Decimal
    quantity: int = 1
    order_id: str = ""


@dataclass(frozen=True, slots=True)
class PurchaseOutcome:
    """What a purchase did, and the impression's purchases and their value since."""

    transaction_id: int
    bandit_id: int
    project_id: int
    already_recorded: bool
    click_implied: bool
    purchases: int
    purchase_value: Decimal


def record_purchase(
    session: Session, transaction_id: int, event: PurchaseEvent, at: datetime
) -> PurchaseOutcome:
    """Log ``event`` on the impression, once per order, and count it; see the module docstring.

    :class:`TransactionNotFound` when the impression does not exist (nothing written).
    """
    impression = session.execute(
        select(
            Transaction.bandit_id,
            Transaction.project_id,
            Transaction.clicked,
            Transaction.timestamp,
        )
        .where(Transaction.transaction_id == transaction_id)
        .with_for_update()
    ).one_or_none()
    if impression is None:
        raise TransactionNotFound(f"transaction {transaction_id} does not exist")
    if not _log(session, transaction_id, impression.bandit_id, event, at):
        totals = session.execute(
            select(Transaction.purchases, Transaction.purchase_value).where(
                Transaction.transaction_id == transaction_id
            )
        ).one()
        return PurchaseOutcome(
            transaction_id,
            impression.bandit_id,
            impression.project_id,
            already_recorded=True,
            click_implied=False,
            purchases=totals.purchases,
            purchase_value=Decimal(totals.purchase_value),
        )
    implied = False
    if not impression.clicked:
        (outcome,) = mark_clicked(session, [transaction_id], at)
        implied = outcome is not None and not outcome.already_recorded
        count_events(session, [], [outcome], at)
    totals = session.execute(
        update(Transaction)
        .where(Transaction.transaction_id == transaction_id)
        .values(
            purchases=Transaction.purchases + 1,
            purchase_value=Transaction.purchase_value + event.value,
            purchased_at=at,
        )
        .returning(Transaction.purchases, Transaction.purchase_value)
    ).one()
    log_value = math.log(event.value)
    session.execute(
        update(Bandit)
        .where(Bandit.bandit_id == impression.bandit_id)
        .values(
            purchases=Bandit.purchases + 1,
            purchase_value=Bandit.purchase_value + event.value,
            log_value_sum=Bandit.log_value_sum + log_value,
            log_value_square_sum=Bandit.log_value_square_sum + log_value * log_value,
        )
    )
    counts = HourCounts()
    counts.purchase(
        (impression.bandit_id, impression.project_id, hour_of(impression.timestamp)), event.value
    )
    apply_hour_counts(session, counts)
    return PurchaseOutcome(
        transaction_id,
        impression.bandit_id,
        impression.project_id,
        already_recorded=False,
        click_implied=implied,
        purchases=totals.purchases,
        purchase_value=Decimal(totals.purchase_value),
    )


def _log(
    session: Session, transaction_id: int, bandit_id: int, event: PurchaseEvent, at: datetime
) -> bool:
    """Insert the purchase's row unless its order is logged already; whether it was inserted."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    inserted = session.execute(
        insert(Purchase)
        .values(
            transaction_id=transaction_id,
            order_id=event.order_id,
            bandit_id=bandit_id,
            value=event.value,
            quantity=event.quantity,
            purchased_at=at,
        )
        .on_conflict_do_nothing(index_elements=["transaction_id", "order_id"])
        .returning(Purchase.transaction_id)
    ).first()
    return inserted is not None
