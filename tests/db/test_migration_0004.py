"""Migration 0004 on a database with history: slot counters rebuilt from the log, existing
campaigns keep ranking as before, new ones get the new defaults. Both backends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from hotdeals.db.engine import make_engine
from hotdeals.db.migrate import alembic_config, upgrade_to_head


@pytest.fixture
def blank(unmigrated_url: str) -> Iterator[Engine]:
    engine = make_engine(unmigrated_url)
    yield engine
    engine.dispose()


def upgrade(engine: Engine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_0004_counts_the_logged_history_per_slot_and_keeps_old_campaigns_as_they_ranked(
    blank: Engine,
) -> None:
    upgrade(blank, "0003")
    with blank.begin() as connection:
        for statement in (
            "INSERT INTO users (email, name, created_at) VALUES ('a@x.org', 'A', CURRENT_DATE)",
            "INSERT INTO projects (project_name, created_at) VALUES ('Old', CURRENT_DATE)",
            "INSERT INTO bandits (project_id, bandit_name, alpha, beta, created_at)"
            " VALUES (1, 'A', 1, 1, CURRENT_DATE), (1, 'B', 1, 1, CURRENT_DATE)",
        ):
            connection.execute(text(statement))
        log = [(1, 1, True), (1, 1, False), (1, 2, True), (2, 2, False), (2, None, True)]
        for bandit, position, clicked in log:
            connection.execute(
                text(
                    "INSERT INTO transactions (customer_id, project_id, bandit_id, position,"
                    " clicked, timestamp) VALUES (1, 1, :b, :p, :c, CURRENT_TIMESTAMP)"
                ),
                {"b": bandit, "p": position, "c": clicked},
            )
    upgrade_to_head(blank)
    with blank.begin() as connection:
        slots = connection.execute(
            text(
                "SELECT bandit_id, position, impressions, clicks FROM bandit_positions"
                " ORDER BY bandit_id, position"
            )
        ).all()
        assert [tuple(r) for r in slots] == [(1, 1, 2, 1), (1, 2, 1, 1), (2, 2, 1, 0)]
        connection.execute(
            text(
                "INSERT INTO projects (project_name, created_at) VALUES ('New', CURRENT_TIMESTAMP)"
            )
        )
        settings = connection.execute(
            text(
                "SELECT project_name, position_correction, end_action, max_relative_loss,"
                " min_duration_days FROM projects ORDER BY project_id"
            )
        ).all()
    assert [(r[0], bool(r[1]), r[2], r[3], r[4]) for r in settings] == [
        ("Old", False, "stop", 0.0025, 0.0),
        ("New", True, "stop", 0.0025, 0.0),
    ]


@pytest.mark.parametrize(
    "assignment", ["end_action = 'explode'", "max_relative_loss = 1", "min_duration_days = -1"]
)
def test_0004_adds_its_checks_to_a_database_with_rows(blank: Engine, assignment: str) -> None:
    upgrade(blank, "0003")
    with blank.begin() as connection:
        connection.execute(
            text("INSERT INTO projects (project_name, created_at) VALUES ('Old', CURRENT_DATE)")
        )
    upgrade_to_head(blank)
    with pytest.raises(IntegrityError), blank.begin() as connection:
        connection.execute(text(f"UPDATE projects SET {assignment}"))  # noqa: S608 (constants)
