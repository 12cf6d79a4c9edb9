"""Report a purchase on an impression: checked against what the deal may earn, then counted.

Whoever holds a rank's click token may report a purchase, so an open report could steer a
campaign that learns from revenue with invented baskets. An open report is therefore bounded
by the deal's own price: its value is at most ``price x quantity``, and a deal without a price
can only have its purchases reported by the shop's backend (the admin token), which is trusted
with any value. Either way the value is in the campaign's currency, or the report is refused;
a refused report writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotdeals.db.models import Bandit, Project, Transaction
from hotdeals.db.purchases import PurchaseEvent, PurchaseOutcome, record_purchase
from hotdeals.errors import InvalidRequest, TransactionNotFound

__all__ = ["PurchaseReport", "report_purchase"]


@dataclass(frozen=True, slots=True)
class PurchaseReport:
    """A purchase as a shop reports it; ``currency`` None means the campaign's."""

    value: Decimal
    quantity: int = 1
    currency: str | None = None
    order_id: str | None = None


def report_purchase(
    session: Session, transaction_id: int, report: PurchaseReport, at: datetime, *, trusted: bool
) -> PurchaseOutcome:
    """Check ``report`` against the impression's deal and campaign, then record it once.

    ``trusted``: reported with the admin token (no bound but the schema's). Raises
    :class:`TransactionNotFound` or :class:`InvalidRequest` naming the field at fault.
    """
    deal = session.execute(
        select(Bandit.price, Project.currency)
        .select_from(Transaction)
        .join(Bandit, Bandit.bandit_id == Transaction.bandit_id)
        .join(Project, Project.project_id == Transaction.project_id)
        .where(Transaction.transaction_id == transaction_id)
    ).one_or_none()
    if deal is None:
        raise TransactionNotFound(f"transaction {transaction_id} does not exist")
    if report.currency is not None and report.currency != deal.currency:
        raise InvalidRequest(
            f"currency: the campaign counts in {deal.currency}, not {report.currency};"
            " nothing was counted"
        )
    if not trusted:
        _check_bound(report, deal.price)
    event = PurchaseEvent(report.value, report.quantity, report.order_id or "")
    return record_purchase(session, transaction_id, event, at)


def _check_bound(report: PurchaseReport, price: Decimal | None) -> None:
    """An open report may claim at most what the deal's price says the basket can be worth."""
    if price is None:
        raise InvalidRequest(
            "value: this deal has no price, so its purchases are reported by the shop's backend"
            " (POST /api/transactions/{transaction_id}/purchase with the admin token);"
            " nothing was counted"
        )
    bound = price * report.quantity
    if report.value > bound:
        raise InvalidRequest(
            f"value: {report.value} is more than the deal's price {price} x quantity"
            f" {report.quantity} = {bound}; nothing was counted"
        )
