"""Commands on a database without the current schema: one line naming ``hotdeals init-db``, exit 2.

Only ``init-db`` and ``demo`` create the schema. Every other command refuses a missing SQLite
file without creating it, an empty database naming the head revision, and an older schema
naming the missing migration; it never prints a driver's traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from hotdeals.cli import app
from hotdeals.config import get_settings
from hotdeals.db.migrate import alembic_config, head_revision

runner = CliRunner()

# Every command that reads or writes campaigns, with arguments that would otherwise succeed or
# fail later for another reason (an unknown project).
COMMANDS = [
    ["stats", "1"],
    ["db-check"],
    ["db-check", "--repair"],
    ["export", "1", "--out", "log.csv"],
    ["create-project", "Week 48", "--deal", "Kiwis:0.99"],
    ["add-deal", "1", "Figs"],
    ["end-project", "1"],
    ["replay", "--from-db", "1"],
    ["serve", "--port", "1"],
]


@pytest.fixture
def settings_from(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Settings read afresh from the environment the test sets (and no ``.env`` of ours)."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("HOTDEALS_ADMIN_TOKEN", "test-admin-token")
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """``serve`` must refuse before it starts uvicorn; if it ever gets that far, fail at once."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("serve started a server on a database without the schema")

    monkeypatch.setattr("uvicorn.run", refuse)


def one_error_line(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, (args, result.output)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, (args, result.stderr)
    assert "run `hotdeals init-db`" in lines[0]
    return lines[0]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: " ".join(args))
def test_a_missing_sqlite_file_is_named_and_never_created(
    settings_from: pytest.MonkeyPatch, tmp_path: Path, args: list[str]
) -> None:
    settings_from.chdir(tmp_path)  # the default DATABASE_URL, sqlite:///hotdeals.db
    line = one_error_line(args)
    assert f"no database exists at {tmp_path / 'hotdeals.db'}" in line
    assert list(tmp_path.iterdir()) == []


def test_a_missing_sqlite_file_elsewhere_is_named_too(
    settings_from: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "data" / "shop.db"
    settings_from.setenv("DATABASE_URL", f"sqlite:///{path}")
    assert f"no database exists at {path} (DATABASE_URL sqlite:///{path})" in one_error_line(
        ["stats", "1"]
    )
    assert not path.parent.exists()


def test_an_empty_database_names_the_head_revision(
    settings_from: pytest.MonkeyPatch, unmigrated_url: str
) -> None:
    settings_from.setenv("DATABASE_URL", unmigrated_url)
    for args in COMMANDS:
        line = one_error_line(args)
        assert f"has no schema (migrations up to {head_revision()} are missing)" in line, args


def test_an_older_schema_names_the_missing_migration_and_init_db_brings_it_up(
    settings_from: pytest.MonkeyPatch, unmigrated_url: str
) -> None:
    config = alembic_config(unmigrated_url)
    command.upgrade(config, "head")
    command.downgrade(config, "-1")
    script = ScriptDirectory.from_config(config)
    head = script.get_revision(head_revision())
    assert head is not None
    assert isinstance(head.down_revision, str)
    settings_from.setenv("DATABASE_URL", unmigrated_url)

    line = one_error_line(["db-check"])
    assert (
        f"is at schema revision {head.down_revision}, this version needs {head.revision} "
        f"(missing migration {head.revision})"
    ) in line

    assert runner.invoke(app, ["init-db"]).exit_code == 0
    checked = runner.invoke(app, ["db-check"])
    assert checked.exit_code == 0, checked.output


def test_init_db_creates_the_missing_file(
    settings_from: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings_from.chdir(tmp_path)
    result = runner.invoke(app, ["init-db"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "hotdeals.db").is_file()
    stats = runner.invoke(app, ["stats", "1"])
    assert stats.exit_code == 2
    assert "project 1 does not exist" in stats.stderr
