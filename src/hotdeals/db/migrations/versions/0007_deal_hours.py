"""Rollups per deal and UTC hour (``deal_hours``), filled from the log; a partial index of the
impressions with purchases.

Analytics then read rows per deal and hour instead of scanning the log, and db-check finds the
impressions that claim a purchase without a scan.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotdeals.db.types import UTCDateTime

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

# The impression's UTC hour, written as each backend stores a timestamp (SQLite: the text
# SQLAlchemy writes; PostgreSQL: timestamptz, truncated in UTC whatever the session's zone).
_HOUR = {
    "postgresql": "date_trunc('hour', t.timestamp, 'UTC')",
    "sqlite": "strftime('%Y-%m-%d %H:00:00.000000', t.timestamp)",
}

_PURCHASED = "purchases <> 0 OR purchase_value <> 0"
_BACKFILL = (
    "INSERT INTO deal_hours (bandit_id, hour, project_id, impressions, clicks, purchases, "
    "purchase_value) SELECT t.bandit_id, HOUR, min(t.project_id), count(*), "
    "sum(CASE WHEN t.clicked THEN 1 ELSE 0 END), sum(t.purchases), sum(t.purchase_value) "
    "FROM transactions t GROUP BY t.bandit_id, HOUR"
)


def upgrade() -> None:
    op.create_table(
        "deal_hours",
        sa.Column("bandit_id", sa.Integer(), nullable=False),
        sa.Column("hour", UTCDateTime(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        *(
            sa.Column(name, sa.BigInteger(), nullable=False)
            for name in ("impressions", "clicks", "purchases")
        ),
        sa.Column("purchase_value", sa.Numeric(14, 2), nullable=False),
        *(
            sa.CheckConstraint(f"{name} >= 0", name=op.f(f"ck_deal_hours_{name}_non_negative"))
            for name in ("impressions", "clicks", "purchases", "purchase_value")
        ),
        sa.ForeignKeyConstraint(
            ["bandit_id"],
            ["bandits.bandit_id"],
            name=op.f("fk_deal_hours_bandit_id_bandits"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.project_id"],
            name=op.f("fk_deal_hours_project_id_projects"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("bandit_id", "hour", name=op.f("pk_deal_hours")),
    )
    op.create_index("ix_deal_hours_project_id_hour", "deal_hours", ["project_id", "hour"])
    op.execute(_BACKFILL.replace("HOUR", _HOUR[op.get_bind().dialect.name]))
    op.create_index(
        "ix_transactions_purchased",
        "transactions",
        ["transaction_id"],
        postgresql_where=sa.text(_PURCHASED),
        sqlite_where=sa.text(_PURCHASED),
    )


def downgrade() -> None:
    op.drop_index("ix_transactions_purchased", table_name="transactions")
    op.drop_index("ix_deal_hours_project_id_hour", table_name="deal_hours")
    op.drop_table("deal_hours")
