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
    # Plain ADD COLUMNs with their CHECKs inline: on SQLite a batch "move and copy" of
    # ``projects`` would drop a table the deals' foreign keys point at, which fails with rows.
    op.add_column(
        "projects",
        sa.Column(
            "max_relative_loss",
            sa.Float(),
            sa.CheckConstraint(
                "max_relative_loss >= 0 AND max_relative_loss < 1",
                name=op.f("ck_projects_max_relative_loss_range"),
            ),
            server_default=sa.text("0.0025"),
            nullable=False,
        ),
    )
    op.add_column(
        "projects",
        sa.Column(
            "min_duration_days",
            sa.Float(),
            sa.CheckConstraint(
                "min_duration_days >= 0", name=op.f("ck_projects_min_duration_days_non_negative")
            ),
            server_default=sa.text("0.0"),
            nullable=False,
        ),
    )
    op.add_column("projects", sa.Column("starts_at", UTCDateTime(), nullable=True))
    op.add_column("projects", sa.Column("ends_at", UTCDateTime(), nullable=True))
    op.add_column(
        "projects",
        sa.Column(
            "end_action",
            sa.String(length=16),
            sa.CheckConstraint(
                "end_action IN ('stop', 'rollout')", name=op.f("ck_projects_end_action_known")
            ),
            server_default="stop",
            nullable=False,
        ),
    )
    op.add_column(
        "projects",
        sa.Column("position_correction", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    # Campaigns created from now on rank by corrected posteriors by default; existing ones keep
    # ranking as they did, until the analyst turns it on.
    op.execute("UPDATE projects SET position_correction = false")
    op.add_column("bandits", sa.Column("starts_at", UTCDateTime(), nullable=True))
    op.add_column("bandits", sa.Column("ends_at", UTCDateTime(), nullable=True))
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
    # Plain DROP COLUMNs (SQLite >= 3.35), for the reason upgrade() adds them plainly.
    op.drop_table("bandit_positions")
    for column in ("ends_at", "starts_at"):
        op.drop_column("bandits", column)
    for column in (
        "position_correction",
        "end_action",
        "ends_at",
        "starts_at",
        "min_duration_days",
        "max_relative_loss",
    ):
        op.drop_column("projects", column)
