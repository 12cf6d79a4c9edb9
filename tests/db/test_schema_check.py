"""``require_schema_at_head``: silent at head; otherwise one message naming what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from hotdeals.db.engine import make_engine
from hotdeals.db.migrate import head_revision, require_schema_at_head, upgrade_to_head
from hotdeals.errors import DatabaseUnavailable, SchemaMissing


def test_a_database_at_head_passes_and_a_newer_one_is_named(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    try:
        upgrade_to_head(engine)
        require_schema_at_head(engine)
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(SchemaMissing, match="at schema revision 9999, which this version"):
            require_schema_at_head(engine)
    finally:
        engine.dispose()


def test_a_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    engine = make_engine(f"sqlite:///{path}")
    with pytest.raises(SchemaMissing, match=f"no database exists at {path} "):
        require_schema_at_head(engine)
    assert not path.exists()


def test_an_in_memory_database_has_no_schema() -> None:
    engine = make_engine("sqlite://")
    with pytest.raises(SchemaMissing, match=f"migrations up to {head_revision()} are missing"):
        require_schema_at_head(engine)


def test_an_unreachable_database_is_database_unavailable() -> None:
    engine = make_engine("postgresql://nobody@127.0.0.1:1/nowhere")
    with pytest.raises(DatabaseUnavailable, match="DATABASE_URL: cannot reach"):
        require_schema_at_head(engine)
