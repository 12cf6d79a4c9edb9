"""What the purchases log says the purchase counters must be, for ``db-check`` and its repair.

:mod:`hotdeals.db.audit` checks the deals' sums with their other counters (one row per deal);
this module also checks each impression's own purchases and value, which only impressions with
a purchase, or with counters that claim one, can get wrong.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import Select, func, or_, select, text, union, update
from sqlalchemy.orm import Session

from hotdeals.db.models import PURCHASED, Transaction
from hotdeals.db.service_tables import Purchase

__all__ = ["PURCHASE_SUMS", "purchase_sums", "repair_summaries", "summary_mismatches"]

PURCHASE_SUMS: Final = ("purchases", "purchase_value", "log_value_sum", "log_value_square_sum")
"""The deal's purchase counters, named as on ``bandits`` and in :func:`purchase_sums`."""


def purchase_sums() -> Select[int, int, Decimal, Any, Any]:
    """Per deal, the sums of its purchases' rows that its counters keep (in SQL: ``ln``)."""
    log_value = func.ln(Purchase.value)
    return select(
        Purchase.bandit_id.label("bandit_id"),
        func.count().label("purchases"),
        func.sum(Purchase.value).label("purchase_value"),
        func.sum(log_value).label("log_value_sum"),
        func.sum(log_value * log_value).label("log_value_square_sum"),
    ).group_by(Purchase.bandit_id)


def _summaries(
    session: Session, project_ids: Sequence[int] | None
) -> Iterator[tuple[int, int, Decimal, int, Decimal]]:
    """Impressions whose stored purchases or value disagree with the log: id, stored, logged.

    Only impressions that claim a purchase (the partial index ``ix_transactions_purchased``)
    or have one logged can disagree: the log of impressions is not scanned."""
    logged = (
        select(
            Purchase.transaction_id.label("transaction_id"),
            func.count().label("purchases"),
            func.sum(Purchase.value).label("value"),
        )
        .group_by(Purchase.transaction_id)
        .subquery()
    )
    count = func.coalesce(logged.c.purchases, 0)
    value = func.coalesce(logged.c.value, 0)
    query = (
        select(
            Transaction.transaction_id,
            Transaction.purchases,
            Transaction.purchase_value,
            count,
            value,
        )
        .outerjoin(logged, logged.c.transaction_id == Transaction.transaction_id)
        .where(
            Transaction.transaction_id.in_(
                union(
                    select(Transaction.transaction_id).where(text(PURCHASED)),
                    select(Purchase.transaction_id),
                )
            ),
            or_(Transaction.purchases != count, Transaction.purchase_value != value),
        )
        .order_by(Transaction.transaction_id)
    )
    if project_ids is not None:
        query = query.where(Transaction.project_id.in_(project_ids))
    for transaction_id, stored, stored_value, want, want_value in session.execute(query):
        yield transaction_id, stored, Decimal(stored_value), int(want), Decimal(want_value)


def summary_mismatches(
    session: Session, project_ids: Sequence[int] | None = None
) -> list[tuple[int, str, float, float]]:
    """``(transaction_id, column, stored, expected)`` for each impression's wrong purchase
    count or value."""
    found: list[tuple[int, str, float, float]] = []
    for transaction_id, stored, stored_value, want, want_value in _summaries(session, project_ids):
        if stored != want:
            found.append((transaction_id, "purchases", stored, want))
        if stored_value != want_value:
            found.append((transaction_id, "purchase_value", float(stored_value), float(want_value)))
    return found


def repair_summaries(session: Session, project_ids: Sequence[int] | None = None) -> int:
    """Rewrite each impression's purchases and value from the log; return how many changed."""
    wrong = list(_summaries(session, project_ids))
    for transaction_id, _, _, want, want_value in wrong:
        session.execute(
            update(Transaction)
            .where(Transaction.transaction_id == transaction_id)
            .values(purchases=want, purchase_value=want_value)
        )
    return len(wrong)
