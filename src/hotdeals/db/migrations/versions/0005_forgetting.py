"""Forgetting and per-deal priors: a campaign's half-life and new-deal prior, each deal's own
prior and discounted state.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def _positive(table: str, column: str, condition: str, name: str) -> sa.Column[float]:
    return sa.Column(
        column,
        sa.Float(),
        sa.CheckConstraint(condition, name=op.f(f"ck_{table}_{name}")),
        server_default=sa.text("1.0" if column.startswith("prior") else "0.0"),
        nullable=False,
    )


def upgrade() -> None:
    # Plain ADD COLUMNs with inline CHECKs, as in 0004: a SQLite batch rebuild of a table other
    # tables point at fails once it has rows.
    op.add_column(
        "projects",
        sa.Column(
            "half_life_hours",
            sa.Float(),
            sa.CheckConstraint(
                "half_life_hours IS NULL OR half_life_hours > 0",
                name=op.f("ck_projects_half_life_hours_positive"),
            ),
            nullable=True,
        ),
    )
    op.add_column(
        "projects",
        sa.Column(
            "new_deal_prior",
            sa.String(length=16),
            sa.CheckConstraint(
                "new_deal_prior IN ('campaign', 'empirical')",
                name=op.f("ck_projects_new_deal_prior_known"),
            ),
            server_default="campaign",
            nullable=False,
        ),
    )
    op.add_column(
        "bandits", _positive("bandits", "prior_alpha", "prior_alpha > 0", "prior_alpha_positive")
    )
    op.add_column(
        "bandits", _positive("bandits", "prior_beta", "prior_beta > 0", "prior_beta_positive")
    )
    for column in ("discounted_impressions", "discounted_clicks"):
        op.add_column(
            "bandits", _positive("bandits", column, f"{column} >= 0", f"{column}_non_negative")
        )
    op.add_column("bandits", sa.Column("discounted_at", sa.Float(), nullable=True))
    # Every existing deal started from its campaign's prior (alpha - successes says so).
    op.execute(
        "UPDATE bandits SET"
        " prior_alpha = (SELECT p.prior_alpha FROM projects p"
        " WHERE p.project_id = bandits.project_id),"
        " prior_beta = (SELECT p.prior_beta FROM projects p"
        " WHERE p.project_id = bandits.project_id)"
    )


def downgrade() -> None:
    # Plain DROP COLUMNs (SQLite >= 3.35), for the reason upgrade() adds them plainly.
    for column in (
        "discounted_at",
        "discounted_clicks",
        "discounted_impressions",
        "prior_beta",
        "prior_alpha",
    ):
        op.drop_column("bandits", column)
    for column in ("new_deal_prior", "half_life_hours"):
        op.drop_column("projects", column)
