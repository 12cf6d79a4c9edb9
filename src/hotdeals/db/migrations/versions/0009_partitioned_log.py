"""On PostgreSQL, the transactions log becomes partitioned by ranges of its id; SQLite unchanged.

The existing table is not copied: it moves to the ``log_partitions`` schema and is attached as
the first range (ids below the sequence's next one; PostgreSQL checks that bound with one scan),
then ranges are made ahead (:mod:`hotdeals.db.partitions`). The new parent has the same
columns, defaults, checks, keys and indexes under the same names, the same sequence, and the
purchases' foreign key points at it. Run it with the servers stopped, as every migration.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from hotdeals.db.partitions import SCHEMA, SEQUENCE, ensure_partitions, next_id

revision = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

_FIRST = f"{SCHEMA}.transactions_000000000000"
_PURCHASES_FK = "fk_purchases_transaction_id_transactions"
_PURCHASED = "purchases <> 0 OR purchase_value <> 0"

# The parent as the models declare it (names from the naming convention), partitioned by id.
_PARENT = f"""
CREATE TABLE transactions (
    transaction_id BIGINT NOT NULL DEFAULT nextval('{SEQUENCE}'::regclass),
    customer_id INTEGER NOT NULL,
    project_id INTEGER NOT NULL,
    bandit_id INTEGER NOT NULL,
    "timestamp" TIMESTAMP WITH TIME ZONE NOT NULL,
    clicked BOOLEAN NOT NULL DEFAULT false,
    position INTEGER,
    clicked_at TIMESTAMP WITH TIME ZONE,
    purchases INTEGER NOT NULL DEFAULT 0,
    purchase_value NUMERIC(14, 2) NOT NULL DEFAULT 0,
    purchased_at TIMESTAMP WITH TIME ZONE,
    CONSTRAINT pk_transactions PRIMARY KEY (transaction_id),
    CONSTRAINT ck_transactions_position_positive CHECK (position IS NULL OR position >= 1),
    CONSTRAINT ck_transactions_purchases_non_negative CHECK (purchases >= 0),
    CONSTRAINT ck_transactions_purchase_value_non_negative CHECK (purchase_value >= 0),
    CONSTRAINT fk_transactions_customer_id_users FOREIGN KEY (customer_id)
        REFERENCES users (customer_id) ON DELETE RESTRICT,
    CONSTRAINT fk_transactions_project_id_projects FOREIGN KEY (project_id)
        REFERENCES projects (project_id) ON DELETE RESTRICT,
    CONSTRAINT fk_transactions_bandit_id_bandits FOREIGN KEY (bandit_id)
        REFERENCES bandits (bandit_id) ON DELETE RESTRICT
) PARTITION BY RANGE (transaction_id)
"""
_INDEXES = (
    'CREATE INDEX ix_transactions_project_id_timestamp ON transactions (project_id, "timestamp")',
    f"CREATE INDEX ix_transactions_purchased ON transactions (transaction_id) WHERE {_PURCHASED}",
)


def _purchases_fk(target: str) -> str:
    return (
        f"ALTER TABLE purchases ADD CONSTRAINT {_PURCHASES_FK} FOREIGN KEY (transaction_id) "
        f"REFERENCES {target} (transaction_id) ON DELETE RESTRICT"
    )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    bind.execute(text("LOCK TABLE transactions IN ACCESS EXCLUSIVE MODE"))
    top = bind.execute(text("SELECT coalesce(max(transaction_id), 0) FROM transactions")).scalar()
    bound = max(int(top or 0) + 1, next_id(bind))
    for statement in (
        f"ALTER TABLE purchases DROP CONSTRAINT {_PURCHASES_FK}",
        f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
        # An owned sequence would move with its table: it stays here, for the new parent.
        f"ALTER SEQUENCE {SEQUENCE} OWNED BY NONE",
        "ALTER TABLE transactions RENAME TO transactions_000000000000",
        f"ALTER TABLE transactions_000000000000 SET SCHEMA {SCHEMA}",
        _PARENT,
        *_INDEXES,
        f"ALTER SEQUENCE {SEQUENCE} OWNED BY transactions.transaction_id",
        f"ALTER TABLE {_FIRST} ALTER COLUMN transaction_id DROP DEFAULT",
        f"ALTER TABLE transactions ATTACH PARTITION {_FIRST} "
        f"FOR VALUES FROM (MINVALUE) TO ({bound})",
        _purchases_fk("transactions"),
    ):
        bind.execute(text(statement))
    ensure_partitions(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for statement in (
        f"ALTER TABLE purchases DROP CONSTRAINT {_PURCHASES_FK}",
        "ALTER TABLE transactions RENAME TO transactions_partitioned",
        "ALTER INDEX pk_transactions RENAME TO pk_transactions_partitioned",
        "ALTER INDEX ix_transactions_project_id_timestamp RENAME TO ix_partitioned_time",
        "ALTER INDEX ix_transactions_purchased RENAME TO ix_partitioned_purchased",
        _PARENT.replace(") PARTITION BY RANGE (transaction_id)", ")"),
        *_INDEXES,
        "INSERT INTO transactions SELECT * FROM transactions_partitioned",
        f"ALTER SEQUENCE {SEQUENCE} OWNED BY transactions.transaction_id",
        "DROP TABLE transactions_partitioned",
        f"DROP SCHEMA {SCHEMA} CASCADE",
        _purchases_fk("transactions"),
    ):
        bind.execute(text(statement))
