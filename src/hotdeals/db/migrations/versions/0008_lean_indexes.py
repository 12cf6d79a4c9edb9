"""Drop the log's indexes that no query uses: every impression paid for them.

The log is read by campaign and time (``ix_transactions_project_id_timestamp``) and by id (its
key). The indexes on ``customer_id`` and ``bandit_id`` served only their foreign keys' checks
when a customer or a deal is deleted, which never happens; ``(project_id, bandit_id)`` served
nothing, and SQLite's planner chose it for the last 24 hours of a campaign, reading its whole
log. The downgrade puts them back.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

_DROPPED = {
    "ix_transactions_bandit_id": ["bandit_id"],
    "ix_transactions_customer_id": ["customer_id"],
    "ix_transactions_project_id_bandit_id": ["project_id", "bandit_id"],
}


def upgrade() -> None:
    for name in _DROPPED:
        op.drop_index(name, table_name="transactions")


def downgrade() -> None:
    for name, columns in _DROPPED.items():
        op.create_index(name, "transactions", columns)
