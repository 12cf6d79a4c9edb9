"""The archive of the log's dropped partitions: per deal, slot and hour (``archived_log``).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotdeals.db.types import UTCDateTime

revision = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "archived_log",
        sa.Column("bandit_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hour", UTCDateTime(), nullable=False),
        *(
            sa.Column(name, sa.BigInteger(), nullable=False)
            for name in ("impressions", "clicks", "purchases")
        ),
        sa.Column("purchase_value", sa.Numeric(14, 2), nullable=False),
        sa.Column("log_value_sum", sa.Float(), nullable=False),
        sa.Column("log_value_square_sum", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bandit_id"],
            ["bandits.bandit_id"],
            name=op.f("fk_archived_log_bandit_id_bandits"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("bandit_id", "position", "hour", name=op.f("pk_archived_log")),
    )


def downgrade() -> None:
    op.drop_table("archived_log")
