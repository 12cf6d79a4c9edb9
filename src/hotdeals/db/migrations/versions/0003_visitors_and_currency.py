"""Anonymous visitors (``users.visitor_id``) and a campaign's currency (``projects.currency``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("visitor_id", sa.String(length=128), nullable=True))
        batch.create_unique_constraint(op.f("uq_users_visitor_id"), ["visitor_id"])
    with op.batch_alter_table("projects") as batch:
        batch.add_column(
            sa.Column("currency", sa.String(length=3), server_default="EUR", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("currency")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("uq_users_visitor_id"), type_="unique")
        batch.drop_column("visitor_id")
