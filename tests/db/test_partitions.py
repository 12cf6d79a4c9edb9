"""The partitioned log on PostgreSQL: ranges of ids made ahead, rows where they belong, and
migration 0009 moving an existing log without copying or losing a row (and back)."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.db.audit import find_mismatches, repair_counters
from hotdeals.db.counters import Impression, log_impressions, record_click
from hotdeals.db.engine import make_session_factory
from hotdeals.db.migrate import alembic_config, upgrade_to_head
from hotdeals.db.models import Bandit, Project, Transaction, User
from hotdeals.db.partitions import (
    AHEAD,
    PARTITION_IDS,
    SEQUENCE,
    ensure_partitions,
    list_partitions,
    next_id,
)
from hotdeals.db.purchases import PurchaseEvent, record_purchase
from hotdeals.db.service_tables import Purchase
from tests.db.test_migration_0004 import blank, upgrade
from tests.factories import make_project, make_user

__all__ = ["blank"]

ON_POSTGRES = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

START = datetime(2026, 12, 1, 9, tzinfo=UTC)


def _partition_of(session: Session, transaction_id: int) -> str:
    return str(
        session.execute(
            text("SELECT tableoid::regclass::text FROM transactions WHERE transaction_id = :i"),
            {"i": transaction_id},
        ).scalar_one()
    )


@ON_POSTGRES
def test_the_migrated_log_has_its_ranges_made_ahead(engine: Engine) -> None:
    with engine.connect() as connection:
        partitions = list_partitions(connection)
        upcoming = next_id(connection)
    assert partitions[0].low is None  # the first range takes every id below the sequence's
    assert all(a.high == b.low for a, b in itertools.pairwise(partitions))
    assert partitions[-1].high is not None
    assert partitions[-1].high - upcoming >= AHEAD * PARTITION_IDS


@ON_POSTGRES
def test_ranges_follow_the_sequence(engine: Engine) -> None:
    """Traffic moves the sequence; the next round makes ranges until two are empty ahead."""
    with engine.begin() as connection:
        top = list_partitions(connection)[-1].high
        assert top is not None
        connection.execute(text(f"SELECT setval('{SEQUENCE}', :at)"), {"at": top - 10})
        created = ensure_partitions(connection, span=100)
        assert ensure_partitions(connection, span=100) == []  # nothing more to do
        after = list_partitions(connection)
    assert [p.table for p in after[-len(created) :]] == created
    # The next id is top - 9: two ranges of 100 leave 209 >= 2 x 100 ids ahead of it.
    assert len(created) == 2
    assert after[-1].high == top + 200


@ON_POSTGRES
def test_rows_land_in_their_range_and_clicks_and_purchases_find_them(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        user = make_user(session, f"{uuid.uuid4().hex}@example.com", "p")
        project = make_project(session, deals=2)
        arm = project.bandits[0].bandit_id
        ids = log_impressions(
            session, [Impression(user.customer_id, project.project_id, arm, 1)] * 3, START
        )
    with sessions.begin() as session:
        record_click(session, ids[0], START)
        record_purchase(session, ids[1], PurchaseEvent(Decimal("2.00")), START)
        ranges = list_partitions(session.connection())
        homes = {_partition_of(session, i) for i in ids}
    holding = [p for p in ranges if (p.low or 0) <= ids[0] < (p.high or ids[0] + 1)]
    assert homes == {holding[0].table}
    with sessions() as session:
        assert find_mismatches(session, [project.project_id]) == []
        assert (
            session.scalar(
                select(func.count())
                .select_from(Transaction)
                .where(Transaction.clicked, Transaction.project_id == project.project_id)
            )
            == 2
        )


@pytest.mark.parametrize("unmigrated_url", ["postgresql"], indirect=True)
def test_0009_attaches_an_existing_log_and_keeps_every_row(blank: Engine) -> None:
    upgrade(blank, "0008")
    with blank.begin() as connection:
        connection.execute(insert(User).values(email="a@x.org", name="A", created_at=START))
        connection.execute(
            insert(Project).values(project_name="Old", number_of_bandits=1, created_at=START)
        )
        connection.execute(
            insert(Bandit).values(project_id=1, bandit_name="A", alpha=1, beta=1, created_at=START)
        )
        connection.execute(
            insert(Transaction),
            [
                {
                    "customer_id": 1,
                    "project_id": 1,
                    "bandit_id": 1,
                    "position": 1,
                    "timestamp": START,
                    "clicked": i % 2 == 0,
                }
                for i in range(50)
            ],
        )
    upgrade_to_head(blank)
    sessions = make_session_factory(blank)
    with sessions.begin() as session:
        repair_counters(session)  # the history above was written in SQL: counters from the log
    with sessions.begin() as session:
        first = list_partitions(session.connection())[0]
        assert first.high == 51
        assert session.scalar(select(func.count()).select_from(Transaction)) == 50
        assert {_partition_of(session, i) for i in (1, 50)} == {first.table}
        new = log_impressions(session, [Impression(1, 1, 1, 1)], START)
        assert new == [51]
        assert _partition_of(session, 51) != first.table
    with sessions() as session:
        assert find_mismatches(session) == []
    with pytest.raises(IntegrityError), blank.begin() as connection:
        connection.execute(
            insert(Purchase).values(
                transaction_id=999_999, bandit_id=1, value=Decimal(1), purchased_at=START
            )
        )

    # And back: 0008's plain table with every row, the sequence where it was.
    config = alembic_config(blank.url.render_as_string(hide_password=False))
    command.downgrade(config, "0008")
    with blank.begin() as connection:
        assert list_partitions(connection) == []
        assert connection.scalar(select(func.count()).select_from(Transaction)) == 51
        assert next_id(connection) == 52
    upgrade_to_head(blank)
    with sessions() as session:
        assert find_mismatches(session) == []
