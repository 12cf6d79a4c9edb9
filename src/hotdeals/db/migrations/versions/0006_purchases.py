"""Purchases: the log of purchases that followed impressions, their counters on the
impressions and the deals, and each campaign's objective (clicks for the campaigns there).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotdeals.db.types import UTCDateTime

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

_VALUE = sa.Numeric(14, 2)


def _counters(table: str) -> list[sa.Column[object]]:
    """The purchase count and value sum of ``table``, zero for the rows already there."""
    return [
        sa.Column(
            column,
            kind,
            sa.CheckConstraint(f"{column} >= 0", name=op.f(f"ck_{table}_{column}_non_negative")),
            server_default=sa.text("0"),
            nullable=False,
        )
        for column, kind in (("purchases", sa.Integer()), ("purchase_value", _VALUE))
    ]


def upgrade() -> None:
    # Plain ADD COLUMNs with inline CHECKs, as in 0004 and 0005: a SQLite batch rebuild of a
    # table other tables point at fails once it has rows.
    op.add_column(
        "projects",
        sa.Column(
            "objective",
            sa.String(length=16),
            sa.CheckConstraint(
                "objective IN ('click', 'purchase', 'revenue')",
                name=op.f("ck_projects_objective_known"),
            ),
            server_default="click",
            nullable=False,
        ),
    )
    for table in ("transactions", "bandits"):
        for column in _counters(table):
            op.add_column(table, column)
    op.add_column("transactions", sa.Column("purchased_at", UTCDateTime(), nullable=True))
    for name in ("log_value_sum", "log_value_square_sum"):
        op.add_column(
            "bandits", sa.Column(name, sa.Float(), server_default=sa.text("0.0"), nullable=False)
        )
    op.create_table(
        "purchases",
        sa.Column("transaction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite")),
        sa.Column("order_id", sa.String(length=200), server_default=sa.text("''")),
        sa.Column("bandit_id", sa.Integer(), nullable=False),
        sa.Column("value", _VALUE, nullable=False),
        sa.Column("quantity", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("purchased_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("value > 0", name=op.f("ck_purchases_value_positive")),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_purchases_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.transaction_id"],
            name=op.f("fk_purchases_transaction_id_transactions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["bandit_id"],
            ["bandits.bandit_id"],
            name=op.f("fk_purchases_bandit_id_bandits"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("transaction_id", "order_id", name=op.f("pk_purchases")),
    )
    op.create_index(op.f("ix_purchases_bandit_id"), "purchases", ["bandit_id"])


def downgrade() -> None:
    # Plain DROP COLUMNs (SQLite >= 3.35), for the reason upgrade() adds them plainly.
    op.drop_index(op.f("ix_purchases_bandit_id"), table_name="purchases")
    op.drop_table("purchases")
    for column in ("log_value_square_sum", "log_value_sum", "purchase_value", "purchases"):
        op.drop_column("bandits", column)
    for column in ("purchased_at", "purchase_value", "purchases"):
        op.drop_column("transactions", column)
    op.drop_column("projects", "objective")
