"""``hotdeals demo``: a week of history through the real services, seeded once, then served."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from hotdeals.cli import app
from hotdeals.config import get_settings
from hotdeals.db.engine import make_engine
from hotdeals.db.models import Bandit, Base, Project, Transaction, User
from hotdeals.services.demo import DEMO_PROJECT_NAME

runner = CliRunner()


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: int(connection.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


def test_demo_seeds_a_learning_week_once_and_then_serves(
    configured: str,
    engine: Engine,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = runner.invoke(app, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert f"seeded project 1 '{DEMO_PROJECT_NAME}': 6 deals, 300 customers" in result.stdout

    with sessions() as session:
        project = session.scalars(select(Project)).one()
        assert (project.project_name, project.status, project.number_of_bandits) == (
            DEMO_PROJECT_NAME,
            "running",
            6,
        )
        deals = project.bandits
        assert len(deals) == 6
        names = " ".join(d.bandit_name for d in deals)
        for fruit in ("Strawberries", "Tomatoes", "Cucumbers", "Spinach", "Ginger", "Peppers"):
            assert fruit in names
        assert all(d.price is not None and d.emoji and d.description for d in deals)
        customers = session.scalar(select(func.count()).select_from(User)) or 0
        emails = session.scalar(select(func.count(func.distinct(User.email)))) or 0
        assert customers == emails >= 200
        moments = session.scalars(select(Transaction.timestamp)).all()
        assert len(moments) >= 3_000
        assert len({m.date() for m in moments}) >= 6
        assert project.created_at <= min(moments)  # back-dated with its history
        assert (max(moments) - min(moments)).days >= 6
        clicked = session.scalar(select(func.count()).where(Transaction.clicked)) or 0
        assert 0 < clicked < len(moments)
        # The policy learnt: the best deal (strawberries) got more traffic than the worst.
        by_name = {d.bandit_name.split()[0]: d for d in deals}
        assert by_name["Strawberries"].n > 3 * by_name["Spinach"].n

    check = runner.invoke(app, ["db-check"])
    assert check.exit_code == 0, check.output

    # A second run finds the campaign, adds nothing, and serves (uvicorn itself is stubbed).
    before = row_counts(engine)
    served: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda target, **options: served.update(options))
    again = runner.invoke(app, ["demo", "--port", "8123"])
    assert again.exit_code == 0, again.output
    assert row_counts(engine) == before
    assert f"project 1 '{DEMO_PROJECT_NAME}' already exists: nothing seeded" in again.stdout
    for url in ("http://127.0.0.1:8123/", "/admin", "/docs"):
        assert url in again.stdout
    assert "test-admin-token" in again.stdout
    assert (served["host"], served["port"], served["factory"]) == ("127.0.0.1", 8123, True)


def test_demo_on_a_brand_new_sqlite_file_creates_the_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("HOTDEALS_ADMIN_TOKEN", "test-admin-token")
    get_settings.cache_clear()
    try:
        result = runner.invoke(
            app, ["demo", "--no-serve", "--customers", "20", "--ranks", "150", "--days", "3"]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "20 customers, 150 page views over 3 days" in result.stdout
    engine = make_engine(url)
    try:
        counts = row_counts(engine)
        with engine.connect() as connection:
            shown = connection.scalar(select(func.sum(Bandit.n))) or 0
    finally:
        engine.dispose()
    assert counts["users"] == 20
    assert counts["projects"] == 1
    assert counts["bandits"] == 6
    assert counts["transactions"] == shown == 150 * 3  # three slots per page view


def test_a_bad_demo_option_is_refused(configured: str) -> None:
    result = runner.invoke(app, ["demo", "--no-serve", "--customers", "0"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
