"""Migration 0005 on a database with history: every deal gets its campaign's prior as its own,
no campaign forgets until told to, and the new checks hold. Both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from hotdeals.db.audit import find_mismatches
from hotdeals.db.engine import make_session_factory
from hotdeals.db.migrate import upgrade_to_head
from tests.db.test_migration_0004 import blank, upgrade

__all__ = ["blank"]


def with_history(engine: Engine) -> None:
    upgrade(engine, "0003")  # 0004 counts the slots of this history, 0005 gives the priors
    with engine.begin() as connection:
        for statement in (
            "INSERT INTO users (email, name, created_at) VALUES ('a@x.org', 'A', CURRENT_DATE)",
            "INSERT INTO projects (project_name, prior_alpha, prior_beta, number_of_bandits,"
            " created_at)"
            " VALUES ('Old', 2, 30, 1, CURRENT_DATE)",
            "INSERT INTO bandits (project_id, bandit_name, alpha, beta, n, number_of_success,"
            " number_of_failures, created_at) VALUES (1, 'A', 3, 30, 1, 1, 0, CURRENT_DATE)",
            "INSERT INTO transactions (customer_id, project_id, bandit_id, position, clicked,"
            " clicked_at, timestamp) VALUES (1, 1, 1, 1, true, CURRENT_TIMESTAMP,"
            " CURRENT_TIMESTAMP)",
        ):
            connection.execute(text(statement))
    upgrade_to_head(engine)


def test_0005_gives_every_deal_its_campaigns_prior_and_keeps_the_audit_clean(
    blank: Engine,
) -> None:
    with_history(blank)
    with blank.begin() as connection:
        deals = connection.execute(
            text(
                "SELECT prior_alpha, prior_beta, discounted_impressions, discounted_at FROM bandits"
            )
        ).all()
        project = connection.execute(
            text("SELECT half_life_hours, new_deal_prior FROM projects")
        ).one()
    assert [tuple(r) for r in deals] == [(2.0, 30.0, 0.0, None)]
    assert tuple(project) == (None, "campaign")
    with make_session_factory(blank)() as session:
        assert find_mismatches(session) == []


@pytest.mark.parametrize(
    ("table", "assignment"),
    [
        ("projects", "half_life_hours = 0"),
        ("projects", "new_deal_prior = 'psychic'"),
        ("bandits", "prior_alpha = 0"),
        ("bandits", "prior_beta = -1"),
        ("bandits", "discounted_clicks = -0.5"),
    ],
)
def test_0005_adds_its_checks_to_a_database_with_rows(
    blank: Engine, table: str, assignment: str
) -> None:
    with_history(blank)
    with pytest.raises(IntegrityError), blank.begin() as connection:
        connection.execute(text(f"UPDATE {table} SET {assignment}"))  # noqa: S608 (constants)
