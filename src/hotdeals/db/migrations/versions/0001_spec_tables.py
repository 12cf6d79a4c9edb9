"""The founding spec's four tables, with the columns the service needs beside them.

Revision ID: 0001
Revises:
Create Date: 2026-11-30

``projects.winner_bandit_id`` refers to ``bandits`` which refers back to ``projects``: that foreign
key is added after both tables exist (batch mode rebuilds the table on SQLite).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotdeals.db.types import UTCDateTime

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "projects",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("project_name", sa.String(length=200), nullable=False),
        sa.Column("project_description", sa.Text(), nullable=True),
        sa.Column("number_of_bandits", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="running", nullable=False),
        sa.Column("policy", sa.String(length=32), server_default="thompson", nullable=False),
        sa.Column("epsilon", sa.Float(), server_default=sa.text("0.1"), nullable=False),
        sa.Column("slots", sa.Integer(), server_default=sa.text("3"), nullable=False),
        sa.Column("prior_alpha", sa.Float(), server_default=sa.text("1.0"), nullable=False),
        sa.Column("prior_beta", sa.Float(), server_default=sa.text("1.0"), nullable=False),
        sa.Column("min_prob_best", sa.Float(), server_default=sa.text("0.95"), nullable=False),
        sa.Column("min_impressions", sa.Integer(), server_default=sa.text("100"), nullable=False),
        sa.Column("winner_bandit_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "number_of_bandits >= 0", name=op.f("ck_projects_number_of_bandits_non_negative")
        ),
        sa.CheckConstraint(
            "status IN ('running', 'paused', 'ended')", name=op.f("ck_projects_status_known")
        ),
        sa.CheckConstraint("slots >= 1", name=op.f("ck_projects_slots_positive")),
        sa.CheckConstraint(
            "prior_alpha > 0 AND prior_beta > 0", name=op.f("ck_projects_prior_positive")
        ),
        sa.CheckConstraint(
            "epsilon >= 0 AND epsilon <= 1", name=op.f("ck_projects_epsilon_probability")
        ),
        sa.CheckConstraint(
            "min_prob_best > 0.5 AND min_prob_best <= 1",
            name=op.f("ck_projects_min_prob_best_range"),
        ),
        sa.CheckConstraint(
            "min_impressions >= 0", name=op.f("ck_projects_min_impressions_non_negative")
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_projects")),
    )
    op.create_table(
        "bandits",
        sa.Column("bandit_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("bandit_name", sa.String(length=200), nullable=False),
        sa.Column("alpha", sa.Float(), nullable=False),
        sa.Column("beta", sa.Float(), nullable=False),
        sa.Column("n", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("number_of_success", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("number_of_failures", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("price", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("emoji", sa.String(length=16), nullable=True),
        sa.Column("image_url", sa.String(length=2000), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("n >= 0", name=op.f("ck_bandits_n_non_negative")),
        sa.CheckConstraint("number_of_success >= 0", name=op.f("ck_bandits_success_non_negative")),
        sa.CheckConstraint(
            "number_of_failures >= 0", name=op.f("ck_bandits_failures_non_negative")
        ),
        sa.CheckConstraint("alpha > 0 AND beta > 0", name=op.f("ck_bandits_posterior_positive")),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.project_id"],
            name=op.f("fk_bandits_project_id_projects"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("bandit_id", name=op.f("pk_bandits")),
        sa.UniqueConstraint(
            "project_id", "bandit_name", name=op.f("uq_bandits_project_id_bandit_name")
        ),
    )
    op.create_index(op.f("ix_bandits_project_id"), "bandits", ["project_id"])
    with op.batch_alter_table("projects") as batch_op:
        batch_op.create_foreign_key(
            op.f("fk_projects_winner_bandit_id_bandits"),
            "bandits",
            ["winner_bandit_id"],
            ["bandit_id"],
            ondelete="RESTRICT",
        )
    op.create_table(
        "transactions",
        sa.Column(
            "transaction_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("bandit_id", sa.Integer(), nullable=False),
        sa.Column("timestamp", UTCDateTime(), nullable=False),
        sa.Column("clicked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("clicked_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "position IS NULL OR position >= 1", name=op.f("ck_transactions_position_positive")
        ),
        sa.ForeignKeyConstraint(
            ["bandit_id"],
            ["bandits.bandit_id"],
            name=op.f("fk_transactions_bandit_id_bandits"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["users.customer_id"],
            name=op.f("fk_transactions_customer_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.project_id"],
            name=op.f("fk_transactions_project_id_projects"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("transaction_id", name=op.f("pk_transactions")),
    )
    op.create_index(op.f("ix_transactions_bandit_id"), "transactions", ["bandit_id"])
    op.create_index(op.f("ix_transactions_customer_id"), "transactions", ["customer_id"])
    op.create_index(
        "ix_transactions_project_id_bandit_id", "transactions", ["project_id", "bandit_id"]
    )
    op.create_index(
        "ix_transactions_project_id_timestamp", "transactions", ["project_id", "timestamp"]
    )


def downgrade() -> None:
    op.drop_table("transactions")
    with op.batch_alter_table("projects") as batch_op:
        batch_op.drop_constraint(op.f("fk_projects_winner_bandit_id_bandits"), type_="foreignkey")
    op.drop_table("bandits")
    op.drop_table("projects")
    op.drop_table("users")
