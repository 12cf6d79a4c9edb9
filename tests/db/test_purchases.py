"""Purchases in storage: logged once per order, the click implied, the counters kept exact and
rebuilt by db-check (both backends)."""

from __future__ import annotations

import math
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.db.audit import find_mismatches, repair_counters
from hotdeals.db.counters import Impression, log_impressions, record_click
from hotdeals.db.models import Bandit, Transaction
from hotdeals.db.purchases import PurchaseEvent, record_purchase
from hotdeals.db.service_tables import Purchase
from hotdeals.errors import TransactionNotFound
from tests.factories import make_project, make_user

START = datetime(2026, 12, 1, tzinfo=UTC)


def _shown(sessions: sessionmaker[Session], count: int = 2) -> tuple[int, int, list[int]]:
    """A campaign of two deals, ``count`` impressions of its first deal: project, deal, ids."""
    with sessions.begin() as session:
        user = make_user(session, f"{uuid.uuid4().hex}@example.com", "a")
        project = make_project(session, deals=2)
        arm = project.bandits[0].bandit_id
        shown = [Impression(user.customer_id, project.project_id, arm, 1)] * count
        return project.project_id, arm, log_impressions(session, shown, START)


def _bandit(sessions: sessionmaker[Session], bandit_id: int) -> Bandit:
    with sessions() as session:
        bandit = session.get(Bandit, bandit_id)
        assert bandit is not None
        return bandit


def test_a_purchase_implies_the_click_and_is_counted_on_the_impression_and_the_deal(
    sessions: sessionmaker[Session],
) -> None:
    _, arm, ids = _shown(sessions)
    with sessions.begin() as session:
        outcome = record_purchase(session, ids[0], PurchaseEvent(Decimal("3.49"), 1), START)
    assert (outcome.already_recorded, outcome.click_implied) == (False, True)
    assert (outcome.purchases, outcome.purchase_value) == (1, Decimal("3.49"))
    bandit = _bandit(sessions, arm)
    assert (bandit.n, bandit.number_of_success, bandit.alpha) == (2, 1, 2.0)
    assert (bandit.purchases, bandit.purchase_value) == (1, Decimal("3.49"))
    assert bandit.log_value_sum == pytest.approx(math.log(3.49))
    assert bandit.log_value_square_sum == pytest.approx(math.log(3.49) ** 2)
    with sessions() as session:
        impression = session.get(Transaction, ids[0])
        assert impression is not None
        assert (impression.clicked, impression.purchases, impression.purchased_at) == (
            True,
            1,
            START,
        )
        assert find_mismatches(session) == []


def test_without_an_order_a_repeat_changes_nothing_and_says_so(
    sessions: sessionmaker[Session],
) -> None:
    _, arm, ids = _shown(sessions)
    record = PurchaseEvent(Decimal("2.00"))
    with sessions.begin() as session:
        record_purchase(session, ids[0], record, START)
    with sessions.begin() as session:
        again = record_purchase(session, ids[0], record, START + timedelta(minutes=5))
    assert (again.already_recorded, again.click_implied, again.purchases) == (True, False, 1)
    bandit = _bandit(sessions, arm)
    assert (bandit.purchases, bandit.purchase_value, bandit.number_of_success) == (
        1,
        Decimal("2.00"),
        1,
    )


def test_distinct_orders_on_one_impression_each_count_once_and_click_once(
    sessions: sessionmaker[Session],
) -> None:
    _, arm, ids = _shown(sessions)
    with sessions.begin() as session:
        record_click(session, ids[0], START)
    outcomes = []
    for order, value in (("A-1", "1.50"), ("A-2", "4.00"), ("A-1", "9.99")):
        with sessions.begin() as session:
            event = PurchaseEvent(Decimal(value), 1, order)
            outcomes.append(record_purchase(session, ids[0], event, START))
    assert [(o.already_recorded, o.click_implied) for o in outcomes] == [
        (False, False),
        (False, False),
        (True, False),
    ]
    assert outcomes[-1].purchase_value == Decimal("5.50")
    bandit = _bandit(sessions, arm)
    assert (bandit.n, bandit.number_of_success, bandit.purchases) == (2, 1, 2)
    assert bandit.purchase_value == Decimal("5.50")


def test_an_unknown_impression_writes_nothing(sessions: sessionmaker[Session]) -> None:
    _shown(sessions)
    with pytest.raises(TransactionNotFound), sessions.begin() as session:
        record_purchase(session, 10**9, PurchaseEvent(Decimal("1.00")), START)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Purchase)) == 0


@pytest.mark.parametrize(("value", "quantity"), [("0", 1), ("-1.00", 1), ("1.00", 0)])
def test_the_schema_refuses_a_purchase_of_no_value_or_no_quantity(
    sessions: sessionmaker[Session], value: str, quantity: int
) -> None:
    _, _, ids = _shown(sessions)
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(
            Purchase(
                transaction_id=ids[0],
                bandit_id=session.get(Transaction, ids[0]).bandit_id,  # type: ignore[union-attr]
                value=Decimal(value),
                quantity=quantity,
                purchased_at=START,
            )
        )


def test_db_check_finds_and_repairs_corrupted_purchase_counters(
    sessions: sessionmaker[Session],
) -> None:
    project_id, arm, ids = _shown(sessions)
    with sessions.begin() as session:
        record_purchase(session, ids[0], PurchaseEvent(Decimal("3.00"), 1, "o-1"), START)
        record_purchase(session, ids[0], PurchaseEvent(Decimal("5.00"), 2, "o-2"), START)
        session.execute(update(Bandit).where(Bandit.bandit_id == arm).values(purchases=7))
        session.execute(
            update(Transaction)
            .where(Transaction.transaction_id == ids[1])
            .values(purchase_value=Decimal("1.25"))
        )
    with sessions.begin() as session:
        found = {(m.table, m.row_id, m.column) for m in find_mismatches(session, [project_id])}
        assert found == {
            ("bandits", arm, "purchases"),
            ("transactions", ids[1], "purchase_value"),
        }
        assert repair_counters(session, [project_id]) == 2
    with sessions() as session:
        assert find_mismatches(session, [project_id]) == []
    bandit = _bandit(sessions, arm)
    assert (bandit.purchases, bandit.purchase_value) == (2, Decimal("8.00"))


# A script: each step reports a purchase on one of 4 impressions, with or without an order.
purchases = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.sampled_from(["", "o-1", "o-2"]),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500"), places=2),
    ),
    max_size=15,
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=purchases)
def test_the_kept_counters_equal_the_logs_rebuild(
    sessions: sessionmaker[Session], script: list[tuple[int, str, Decimal]]
) -> None:
    _, arm, ids = _shown(sessions, count=4)  # a new campaign: examples share the database
    counted: dict[tuple[int, str], Decimal] = {}
    for index, order, value in script:
        with sessions.begin() as session:
            outcome = record_purchase(session, ids[index], PurchaseEvent(value, 1, order), START)
        assert outcome.already_recorded == ((index, order) in counted)
        counted.setdefault((index, order), value)
    bandit = _bandit(sessions, arm)
    assert bandit.purchases == len(counted)
    assert bandit.purchase_value == sum(counted.values(), Decimal(0))
    assert bandit.number_of_success == len({index for index, _ in counted})
    assert bandit.log_value_sum == pytest.approx(sum(math.log(v) for v in counted.values()))
    with sessions() as session:
        assert find_mismatches(session) == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_purchases_and_clicks_racing_on_one_impression_count_one_click(
    sessions: sessionmaker[Session],
) -> None:
    """Real concurrent transactions: the click is counted once whichever comes first, every
    order once, and no lock order deadlocks (each waits for the impression's row)."""
    _, arm, ids = _shown(sessions, count=1)

    def click() -> None:
        with sessions.begin() as session:
            record_click(session, ids[0], START)

    def buy(order: str) -> None:
        with sessions.begin() as session:
            record_purchase(session, ids[0], PurchaseEvent(Decimal("1.00"), 1, order), START)

    jobs = [click] * 4 + [lambda o=f"o-{i}": buy(o) for i in range(4)] * 2
    with ThreadPoolExecutor(max_workers=8) as pool:
        for future in [pool.submit(job) for job in jobs]:
            future.result(timeout=30)
    bandit = _bandit(sessions, arm)
    assert (bandit.n, bandit.number_of_success, bandit.purchases) == (1, 1, 4)
    with sessions() as session:
        assert find_mismatches(session) == []
