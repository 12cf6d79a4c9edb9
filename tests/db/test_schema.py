"""The schema the migrations build is the founding spec's, and agrees with the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from hotdeals.db.engine import make_engine
from hotdeals.db.migrate import current_revision, head_revision, upgrade_to_head
from hotdeals.db.models import Base
from hotdeals.db.partitions import SCHEMA, is_partition_detail
from tests.support.postgres import ThrowawayPostgres

SPEC_COLUMNS = {
    "users": {"customer_id", "email", "name"},
    "projects": {"project_id", "project_name", "project_description", "number_of_bandits"},
    "bandits": {
        "bandit_id",
        "project_id",
        "bandit_name",
        "alpha",
        "beta",
        "n",
        "number_of_success",
        "number_of_failures",
    },
    "transactions": {
        "transaction_id",
        "customer_id",
        "project_id",
        "bandit_id",
        "timestamp",
        "clicked",
    },
}
SPEC_PRIMARY_KEYS = {
    "users": ["customer_id"],
    "projects": ["project_id"],
    "bandits": ["bandit_id"],
    "transactions": ["transaction_id"],
}
SPEC_FOREIGN_KEYS = {
    ("bandits", "project_id", "projects", "project_id"),
    ("transactions", "customer_id", "users", "customer_id"),
    ("transactions", "project_id", "projects", "project_id"),
    ("transactions", "bandit_id", "bandits", "bandit_id"),
}
SPEC_NOT_NULL = {
    ("users", "email"),
    ("users", "name"),
    ("projects", "project_name"),
    ("bandits", "bandit_name"),
}


def schema_diff(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_object": lambda item, _name, type_, _reflected, _to: (
                    not is_partition_detail(item, type_)
                ),
            },
        )
        return list(compare_metadata(context, Base.metadata))


def test_migrations_create_every_table_column_and_key_of_the_spec(engine: Engine) -> None:
    inspector = inspect(engine)
    assert SPEC_COLUMNS.keys() <= set(inspector.get_table_names())
    for table, columns in SPEC_COLUMNS.items():
        found = {c["name"]: c for c in inspector.get_columns(table)}
        assert columns <= found.keys(), f"{table} lacks {columns - found.keys()}"
        assert inspector.get_pk_constraint(table)["constrained_columns"] == SPEC_PRIMARY_KEYS[table]
    foreign_keys = {
        (table, fk["constrained_columns"][0], fk["referred_table"], fk["referred_columns"][0])
        for table in SPEC_COLUMNS
        for fk in inspector.get_foreign_keys(table)
    }
    assert foreign_keys >= SPEC_FOREIGN_KEYS
    for table, column in SPEC_NOT_NULL:
        nullable = {c["name"]: c["nullable"] for c in inspector.get_columns(table)}
        assert nullable[column] is False, f"{table}.{column} accepts NULL"
    uniques = [u["column_names"] for u in inspector.get_unique_constraints("users")]
    assert ["email"] in uniques


def test_migrations_and_models_agree(engine: Engine) -> None:
    assert schema_diff(engine) == []
    assert current_revision(engine) == head_revision()


def test_upgrading_twice_changes_nothing(engine: Engine) -> None:
    before = inspect(engine).get_table_names()
    upgrade_to_head(engine)
    assert inspect(engine).get_table_names() == before
    assert schema_diff(engine) == []


@pytest.fixture
def empty_twin(engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    """A second, empty database on the same backend."""
    if engine.dialect.name == "sqlite":
        twin = make_engine(f"sqlite:///{tmp_path / 'twin.db'}")
        yield twin
        twin.dispose()
        return
    database = ThrowawayPostgres(engine.url.render_as_string(hide_password=False))
    twin = make_engine(database.create())
    yield twin
    twin.dispose()
    database.drop()


def test_the_specs_create_all_builds_the_same_schema(engine: Engine, empty_twin: Engine) -> None:
    """The spec's own ``Base.metadata.create_all(engine)`` must not drift from the migrations."""
    Base.metadata.create_all(empty_twin)
    assert schema_diff(empty_twin) == []
    migrated, created = inspect(engine), inspect(empty_twin)
    for table in Base.metadata.tables:
        assert {c["name"] for c in migrated.get_columns(table)} == {
            c["name"] for c in created.get_columns(table)
        }
        # Less PostgreSQL's clones of a foreign key to the partitioned log onto its partitions.
        own = [k for k in migrated.get_foreign_keys(table) if k["referred_schema"] != SCHEMA]
        assert sorted(map(repr, own)) == sorted(map(repr, created.get_foreign_keys(table)))
