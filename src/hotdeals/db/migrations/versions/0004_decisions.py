"""Decisions: winner-rule settings, schedules, end action, position correction, slot counters.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotdeals.db.types import UTCDateTime

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(
            sa.Column(
                "max_relative_loss", sa.Float(), server_default=sa.text("0.0025"), nullable=False
            )
        )
        batch.add_column(
            sa.Column(
                "min_duration_days", sa.Float(), server_default=sa.text("0.0"), nullable=False
            )
        )
        batch.add_column(sa.Column("starts_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("ends_at", UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column("end_action", sa.String(length=16), server_default="stop", nullable=False)
        )
        batch.add_column(
            sa.Column(
                "position_correction", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch.create_check_constraint(
            op.f("ck_projects_max_relative_loss_range"),
            "max_relative_loss >= 0 AND max_relative_loss < 1",
        )
        batch.create_check_constraint(
            op.f("ck_projects_min_duration_days_non_negative"), "min_duration_days >= 0"
        )
        batch.create_check_constraint(
            op.f("ck_projects_end_action_known"), "end_action IN ('stop', 'rollout')"
        )
    with op.batch_alter_table("bandits") as batch:
        batch.add_column(sa.Column("starts_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("ends_at", UTCDateTime(), nullable=True))
    op.create_table(
        "bandit_positions",
        sa.Column("bandit_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("position >= 1", name=op.f("ck_bandit_positions_position_positive")),
        sa.CheckConstraint(
            "impressions >= 0", name=op.f("ck_bandit_positions_impressions_non_negative")
        ),
        sa.CheckConstraint("clicks >= 0", name=op.f("ck_bandit_positions_clicks_non_negative")),
        sa.ForeignKeyConstraint(
            ["bandit_id"],
            ["bandits.bandit_id"],
            name=op.f("fk_bandit_positions_bandit_id_bandits"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("bandit_id", "position", name=op.f("pk_bandit_positions")),
    )
    # The counters of the history logged so far, from the log itself (the source of truth).
    op.execute(
        "INSERT INTO bandit_positions (bandit_id, position, impressions, clicks) "
        "SELECT bandit_id, position, count(*), "
        "sum(CASE WHEN clicked THEN 1 ELSE 0 END) "
        "FROM transactions WHERE position IS NOT NULL GROUP BY bandit_id, position"
    )


def downgrade() -> None:
    op.drop_table("bandit_positions")
    with op.batch_alter_table("bandits") as batch:
        batch.drop_column("ends_at")
        batch.drop_column("starts_at")
    with op.batch_alter_table("projects") as batch:
        batch.drop_constraint(op.f("ck_projects_end_action_known"), type_="check")
        batch.drop_constraint(op.f("ck_projects_min_duration_days_non_negative"), type_="check")
        batch.drop_constraint(op.f("ck_projects_max_relative_loss_range"), type_="check")
        batch.drop_column("position_correction")
        batch.drop_column("end_action")
        batch.drop_column("ends_at")
        batch.drop_column("starts_at")
        batch.drop_column("min_duration_days")
        batch.drop_column("max_relative_loss")
