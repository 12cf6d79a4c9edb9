"""A campaign's objective from the shell: ``create-project --objective``, its defaults and its
refusals, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from hotdeals.cli import app
from hotdeals.db.models import Project

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "objective", "corrected"),
    [
        ([], "click", True),
        (["--objective", "purchase"], "purchase", False),
        (["--objective", "revenue", "--no-position-correction"], "revenue", False),
        (["--objective", "click", "--no-position-correction"], "click", False),
    ],
)
def test_create_project_stores_the_objective_and_its_default_correction(
    configured: str,
    sessions: sessionmaker[Session],
    args: list[str],
    objective: str,
    corrected: bool,
) -> None:
    result = runner.invoke(app, ["create-project", "W", "--deal", "Figs", "--slots", "3", *args])
    assert result.exit_code == 0, result.output
    with sessions() as session:
        project = session.get_one(Project, int(result.stdout.strip()))
        assert (project.objective, project.position_correction) == (objective, corrected)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--objective", "likes"], "--objective: Input should be 'click', 'purchase' or 'revenue'"),
        (["--objective", "revenue", "--policy", "ucb1"], "policy must be thompson"),
        (["--objective", "purchase", "--position-correction"], "position_correction must be"),
        (["--objective", "purchase", "--half-life", "24"], "half_life_hours must be null"),
    ],
)
def test_a_bad_objective_or_combination_is_one_line_and_nothing_is_stored(
    configured: str, sessions: sessionmaker[Session], args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["create-project", "W", "--deal", "Figs", *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Project)) == 0
