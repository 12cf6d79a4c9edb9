"""Migration 0006 on a database with history: no impression or deal has purchases yet, the
audit stays clean, and the new checks hold. Both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from hotdeals.db.audit import find_mismatches
from hotdeals.db.engine import make_session_factory
from tests.db.test_migration_0004 import blank
from tests.db.test_migration_0005 import with_history

__all__ = ["blank"]


def test_0006_starts_every_impression_and_deal_without_purchases(blank: Engine) -> None:
    with_history(blank)
    with blank.begin() as connection:
        impression = connection.execute(
            text("SELECT purchases, purchase_value, purchased_at FROM transactions")
        ).one()
        deal = connection.execute(
            text(
                "SELECT purchases, purchase_value, log_value_sum, log_value_square_sum FROM bandits"
            )
        ).one()
        logged = connection.execute(text("SELECT count(*) FROM purchases")).scalar_one()
    assert (impression.purchases, float(impression.purchase_value), impression.purchased_at) == (
        0,
        0.0,
        None,
    )
    assert (deal.purchases, float(deal.purchase_value), deal.log_value_sum) == (0, 0.0, 0.0)
    assert logged == 0
    with make_session_factory(blank)() as session:
        assert find_mismatches(session) == []


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE transactions SET purchases = -1",
        "UPDATE bandits SET purchase_value = -0.01",
        "INSERT INTO purchases (transaction_id, order_id, bandit_id, value, quantity, purchased_at)"
        " VALUES (1, '', 1, 0, 1, CURRENT_TIMESTAMP)",
        "INSERT INTO purchases (transaction_id, order_id, bandit_id, value, quantity, purchased_at)"
        " VALUES (1, '', 1, 2.5, 0, CURRENT_TIMESTAMP)",
    ],
)
def test_0006_adds_its_checks_to_a_database_with_rows(blank: Engine, statement: str) -> None:
    with_history(blank)
    with pytest.raises(IntegrityError), blank.begin() as connection:
        connection.execute(text(statement))


def test_0006_logs_one_purchase_per_impression_and_order(blank: Engine) -> None:
    with_history(blank)
    row = (
        "INSERT INTO purchases (transaction_id, order_id, bandit_id, value, quantity, purchased_at)"
        " VALUES (1, 'o-1', 1, 2.5, 1, CURRENT_TIMESTAMP)"
    )
    with blank.begin() as connection:
        connection.execute(text(row))
    with pytest.raises(IntegrityError), blank.begin() as connection:
        connection.execute(text(row))
