"""The service's tables beside the founding spec's: slot counters, rank keys, purchases, rollups.

Not part of the spec (``hotdeals.db.models`` holds its four tables); importing ``hotdeals.db``
registers these too, so the metadata, the migrations' check and every query see one schema.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hotdeals.db.models import Base, BigIntId
from hotdeals.db.types import UTCDateTime, utcnow
from hotdeals.vocabulary import MAX_IDEMPOTENCY_KEY, MAX_ORDER_ID, PRICE_DECIMALS, VALUE_DIGITS


class BanditPosition(Base):
    """Impressions and first clicks of one deal in one slot: a counter cache of the log.

    Not part of the founding spec: kept beside the spec's counters in the same transactions
    (:mod:`hotdeals.db.counters`), so that slot effects (examination probabilities,
    position-corrected CTRs) and the uplift versus an even split are read from a few rows, never
    from a scan of the log; ``hotdeals db-check`` verifies and rebuilds them. Impressions logged
    without a slot (``position`` NULL) are not counted here.
    """

    __tablename__ = "bandit_positions"
    __table_args__ = (
        CheckConstraint("position >= 1", name="position_positive"),
        CheckConstraint("impressions >= 0", name="impressions_non_negative"),
        # Not "clicks <= impressions": an upsert's proposed row of clicks alone is checked
        # before its conflict turns it into an update. db-check holds both to the log.
        CheckConstraint("clicks >= 0", name="clicks_non_negative"),
    )

    bandit_id: Mapped[int] = mapped_column(
        ForeignKey("bandits.bandit_id", ondelete="RESTRICT"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    impressions: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class RankRequest(Base):
    """A rank answered under an ``Idempotency-Key``, so that a retry gets the same deals back.

    Not part of the founding spec: a service table beside it. The primary key makes concurrent
    retries with one key wait for the first and then read its answer instead of logging twice.
    """

    __tablename__ = "rank_requests"

    idempotency_key: Mapped[str] = mapped_column(String(MAX_IDEMPOTENCY_KEY), primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.project_id", ondelete="RESTRICT"), nullable=False
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("users.customer_id", ondelete="RESTRICT"), nullable=False
    )
    transaction_ids: Mapped[list[int]] = mapped_column(JSON, nullable=False, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class Purchase(Base):
    """One purchase that followed an impression: the log the purchase counters are kept from.

    ``order_id`` is the shop's order ('' when it gave none): an impression has at most one
    purchase per order, so a repeated report changes nothing. ``bandit_id`` repeats the
    impression's, so that the counters are rebuilt without joining the transactions log.
    """

    __tablename__ = "purchases"
    __table_args__ = (
        CheckConstraint("value > 0", name="value_positive"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
    )

    transaction_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("transactions.transaction_id", ondelete="RESTRICT"), primary_key=True
    )
    order_id: Mapped[str] = mapped_column(
        String(MAX_ORDER_ID), primary_key=True, server_default=text("''")
    )
    bandit_id: Mapped[int] = mapped_column(
        ForeignKey("bandits.bandit_id", ondelete="RESTRICT"), nullable=False, index=True
    )
    value: Mapped[Decimal] = mapped_column(Numeric(VALUE_DIGITS, PRICE_DECIMALS), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))
    purchased_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class DealHour(Base):
    """One deal's impressions of one UTC hour and what they led to: the rollup analytics read.

    Not part of the founding spec: kept in the same transactions as the counters (one upsert per
    touched deal-hour per batch, :mod:`hotdeals.db.rollups`), so that ``/stats``, ``/timeseries``
    and the dashboard read rows per deal and hour, never the log. Clicks and purchases count in
    the hour of the impression they followed, as the log's own per-hour grouping does (a chart's
    CTR per hour is then the CTR of that hour's impressions). ``hotdeals db-check`` verifies the
    rows against the log and ``--repair`` rebuilds them.
    """

    __tablename__ = "deal_hours"
    __table_args__ = (
        Index("ix_deal_hours_project_id_hour", "project_id", "hour"),
        CheckConstraint("impressions >= 0", name="impressions_non_negative"),
        # As on bandit_positions: an upsert's proposed row of clicks alone is checked first.
        CheckConstraint("clicks >= 0", name="clicks_non_negative"),
        CheckConstraint("purchases >= 0", name="purchases_non_negative"),
        CheckConstraint("purchase_value >= 0", name="purchase_value_non_negative"),
    )

    bandit_id: Mapped[int] = mapped_column(
        ForeignKey("bandits.bandit_id", ondelete="RESTRICT"), primary_key=True
    )
    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.project_id", ondelete="RESTRICT"), nullable=False
    )
    impressions: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    purchases: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    purchase_value: Mapped[Decimal] = mapped_column(
        Numeric(VALUE_DIGITS, PRICE_DECIMALS), nullable=False, default=Decimal(0)
    )


class ArchivedLog(Base):
    """What the log held before retention dropped it: per deal, slot and hour of the impression.

    Not part of the founding spec. A partition of the log leaves only after its rows are summed
    here (:mod:`hotdeals.db.retention`), in the same transaction, so every invariant becomes
    "archived + retained = counters" and ``db-check`` keeps verifying all of them. ``position`` 0
    stands for impressions logged without a slot. The purchases' value sums (and of their logs)
    are the revenue posterior's statistics, archived with them.
    """

    __tablename__ = "archived_log"

    bandit_id: Mapped[int] = mapped_column(
        ForeignKey("bandits.bandit_id", ondelete="RESTRICT"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    impressions: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    purchases: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    purchase_value: Mapped[Decimal] = mapped_column(
        Numeric(VALUE_DIGITS, PRICE_DECIMALS), nullable=False, default=Decimal(0)
    )
    log_value_sum: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    log_value_square_sum: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
