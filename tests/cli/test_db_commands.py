"""``hotdeals init-db``, ``db-check`` and ``--version`` through Typer's runner."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from hotdeals import __version__
from hotdeals.cli import app
from hotdeals.config import get_settings
from hotdeals.db.counters import Impression, log_impressions, record_click
from hotdeals.db.models import Bandit
from tests.factories import make_project, make_user

runner = CliRunner()


def seed(sessions: sessionmaker[Session]) -> int:
    """A project with two arms, three impressions and one click; returns one arm's id."""
    with sessions.begin() as session:
        user = make_user(session, "dee@example.com", "Dee")
        project = make_project(session, deals=("Tomatoes", "Ginger"), project_name="p")
        tomatoes, ginger = (b.bandit_id for b in project.bandits)
        ids = log_impressions(
            session,
            [
                Impression(user.customer_id, project.project_id, tomatoes, 1),
                Impression(user.customer_id, project.project_id, ginger, 2),
                Impression(user.customer_id, project.project_id, tomatoes, 1),
            ],
        )
        record_click(session, ids[0])
    return tomatoes


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_init_db_is_idempotent(configured: str) -> None:
    for _ in range(2):
        result = runner.invoke(app, ["init-db"])
        assert result.exit_code == 0, result.output
        assert "database ready" in result.stdout


def test_db_check_passes_on_a_consistent_database(
    configured: str, sessions: sessionmaker[Session]
) -> None:
    seed(sessions)
    result = runner.invoke(app, ["db-check"])
    assert result.exit_code == 0, result.output
    assert "OK" in result.stdout


@pytest.mark.parametrize(
    ("column", "value"), [("n", 7), ("number_of_success", 0), ("alpha", 5.0), ("beta", 1.0)]
)
def test_db_check_names_a_corrupted_counter_and_repair_fixes_it(
    configured: str,
    sessions: sessionmaker[Session],
    engine: Engine,
    column: str,
    value: float,
) -> None:
    tomatoes = seed(sessions)
    with engine.begin() as connection:
        connection.execute(
            update(Bandit).where(Bandit.bandit_id == tomatoes).values({column: value})
        )

    broken = runner.invoke(app, ["db-check"])
    assert broken.exit_code == 1
    assert f"bandits {tomatoes} ('Tomatoes'): {column} is" in broken.stderr

    repaired = runner.invoke(app, ["db-check", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert "repaired 1 row(s)" in repaired.stdout
    assert runner.invoke(app, ["db-check"]).exit_code == 0


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            "UPDATE bandit_positions SET clicks = 2 WHERE bandit_id = :b AND position = 1",
            "bandit_positions {b} ('Tomatoes in slot 1'): clicks is 2, the log says 1",
        ),
        (
            "DELETE FROM bandit_positions WHERE bandit_id = :b",
            "bandit_positions {b} ('Tomatoes in slot 1'): impressions is 0, the log says 2",
        ),
        (
            "INSERT INTO bandit_positions VALUES (:b, 5, 7, 0)",
            "bandit_positions {b} ('Tomatoes in slot 5'): impressions is 7, the log says 0",
        ),
    ],
)
def test_db_check_names_a_corrupted_slot_counter_and_repair_fixes_it(
    configured: str, sessions: sessionmaker[Session], engine: Engine, statement: str, message: str
) -> None:
    tomatoes = seed(sessions)
    with engine.begin() as connection:
        connection.execute(text(statement), {"b": tomatoes})
    broken = runner.invoke(app, ["db-check"])
    assert broken.exit_code == 1
    assert message.format(b=tomatoes) in broken.stderr
    repaired = runner.invoke(app, ["db-check", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert "repaired 1 row(s)" in repaired.stdout
    assert runner.invoke(app, ["db-check"]).exit_code == 0
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT position, impressions, clicks FROM bandit_positions WHERE bandit_id = :b"),
            {"b": tomatoes},
        ).all()
    assert [tuple(r) for r in rows] == [(1, 2, 1)]


def test_db_check_repairs_number_of_bandits(configured: str, engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO projects (project_name, number_of_bandits, created_at)"
                " VALUES ('p', 4, CURRENT_TIMESTAMP)"
            )
        )
    broken = runner.invoke(app, ["db-check"])
    assert broken.exit_code == 1
    assert "number_of_bandits is 4, the log says 0" in broken.stderr
    assert runner.invoke(app, ["db-check", "--repair"]).exit_code == 0
    assert runner.invoke(app, ["db-check"]).exit_code == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "DATABASE_URL: Value error, not a database URL"),
        ("mysql://x@localhost/db", "only sqlite:// and postgresql://"),
        ("postgresql://nobody@127.0.0.1:1/nowhere", "DATABASE_URL: cannot reach"),
    ],
)
def test_a_bad_database_url_gives_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, url: str, message: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["init-db"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
