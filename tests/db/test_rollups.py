"""The hour rollups (``deal_hours``): kept exact by every writer, checked and rebuilt by db-check,
filled by migration 0007 from an existing log. Both backends."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, insert, text, update
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.db.audit import find_mismatches, repair_counters, scan_log
from hotdeals.db.counters import Impression, log_impressions, record_click
from hotdeals.db.engine import make_session_factory
from hotdeals.db.migrate import upgrade_to_head
from hotdeals.db.models import Bandit, Project, Transaction, User
from hotdeals.db.purchases import PurchaseEvent, record_purchase
from hotdeals.db.rollups import hour_of, read_deal_hours
from hotdeals.db.service_tables import DealHour, Purchase
from tests.db.test_migration_0004 import blank, upgrade
from tests.factories import make_project, make_user

__all__ = ["blank"]

START = datetime(2026, 12, 1, 22, 40, tzinfo=UTC)
ARMS = 3

# A step shows arms, clicks or buys the i-th impression, or moves the clock on (minutes).
steps = st.lists(
    st.one_of(
        st.tuples(st.just("show"), st.lists(st.integers(0, ARMS - 1), min_size=1, max_size=3)),
        st.tuples(st.just("click"), st.integers(0, 30)),
        st.tuples(
            st.just("buy"),
            st.tuples(
                st.integers(0, 30),
                st.sampled_from(["", "o-1"]),
                st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99"), places=2),
            ),
        ),
        st.tuples(st.just("wait"), st.integers(1, 150)),
    ),
    max_size=30,
)

Figures = tuple[int, int, int, Decimal]


def _campaign(sessions: sessionmaker[Session]) -> tuple[int, int, list[int]]:
    with sessions.begin() as session:
        user = make_user(session, f"{uuid.uuid4().hex}@example.com", "u")
        project = make_project(session, deals=ARMS)
        return user.customer_id, project.project_id, [b.bandit_id for b in project.bandits]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=steps)
def test_the_rollups_equal_the_log_per_deal_and_hour_of_the_impression(
    sessions: sessionmaker[Session], script: list[tuple[str, object]]
) -> None:
    """Clicks and purchases count in the hour of the impression they followed, however late."""
    customer, project_id, arms = _campaign(sessions)
    now = START
    shown: list[tuple[int, int, datetime]] = []  # (transaction id, deal, shown at)
    want: dict[tuple[int, datetime], list[object]] = {}
    clicked: set[int] = set()
    orders: set[tuple[int, str]] = set()

    def add(index: int, column: int, amount: object) -> None:
        _, deal, at = shown[index]
        row = want.setdefault((deal, hour_of(at)), [0, 0, 0, Decimal(0)])
        row[column] += amount  # type: ignore[operator]

    for kind, argument in script:
        with sessions.begin() as session:
            if kind == "show":
                assert isinstance(argument, list)
                seen = [
                    Impression(customer, project_id, arms[a], p + 1) for p, a in enumerate(argument)
                ]
                for tid, impression in zip(log_impressions(session, seen, now), seen, strict=True):
                    shown.append((tid, impression.bandit_id, now))
                    add(len(shown) - 1, 0, 1)
            elif kind == "click" and isinstance(argument, int) and argument < len(shown):
                record_click(session, shown[argument][0], now)
                if argument not in clicked:
                    clicked.add(argument)
                    add(argument, 1, 1)
            elif kind == "buy" and isinstance(argument, tuple) and argument[0] < len(shown):
                index, order, value = argument
                record_purchase(session, shown[index][0], PurchaseEvent(value, 1, order), now)
                if (index, order) not in orders:
                    orders.add((index, order))
                    add(index, 2, 1)
                    add(index, 3, value)
                    if index not in clicked:  # a purchase implies the click
                        clicked.add(index)
                        add(index, 1, 1)
            elif kind == "wait" and isinstance(argument, int):
                now += timedelta(minutes=argument)
    with sessions() as session:
        rows = read_deal_hours(session, project_id)
        assert {
            (r.bandit_id, r.hour): [r.impressions, r.clicks, r.purchases, r.purchase_value]
            for r in rows
        } == want
        assert find_mismatches(session, [project_id]) == []


def test_reading_from_a_time_starts_at_its_hour(sessions: sessionmaker[Session]) -> None:
    customer, project_id, arms = _campaign(sessions)
    with sessions.begin() as session:
        for minutes in (0, 30, 90, 200):
            at = START + timedelta(minutes=minutes)
            log_impressions(session, [Impression(customer, project_id, arms[0], 1)], at)
    with sessions() as session:
        hours = [
            r.hour
            for r in read_deal_hours(session, project_id, since=START + timedelta(minutes=95))
        ]
    # 22:40 + 95 min = 00:15: its hour (00:00) on, the impression of 00:10 included.
    assert hours == [
        hour_of(START + timedelta(minutes=90)),
        hour_of(START + timedelta(minutes=200)),
    ]


def test_db_check_finds_and_repairs_wrong_missing_and_stray_rollup_rows(
    sessions: sessionmaker[Session],
) -> None:
    customer, project_id, arms = _campaign(sessions)
    with sessions.begin() as session:
        ids = log_impressions(
            session, [Impression(customer, project_id, arm, 1) for arm in arms[:2]], START
        )
        log_impressions(
            session, [Impression(customer, project_id, arms[0], 1)], START + timedelta(hours=1)
        )
        record_purchase(session, ids[0], PurchaseEvent(Decimal("4.50")), START + timedelta(hours=3))
    first, later = hour_of(START), hour_of(START + timedelta(hours=1))
    with sessions.begin() as session:
        session.execute(
            update(DealHour)
            .where(DealHour.bandit_id == arms[0], DealHour.hour == first)
            .values(clicks=5, purchase_value=Decimal("1.00"))
        )
        session.execute(
            delete(DealHour).where(DealHour.bandit_id == arms[0], DealHour.hour == later)
        )
        session.execute(
            insert(DealHour).values(
                bandit_id=arms[2],
                hour=first,
                project_id=project_id,
                impressions=3,
                clicks=0,
                purchases=0,
                purchase_value=Decimal(0),
            )
        )
    with sessions.begin() as session:
        totals = scan_log(session, [project_id])
        found = {
            (m.row_id, m.column, m.stored, m.expected)
            for m in find_mismatches(session, [project_id], totals)
            if m.table == "deal_hours"
        }
        assert found == {
            (arms[0], "clicks", 5.0, 1.0),
            (arms[0], "purchase_value", 1.0, 4.5),
            (arms[0], "impressions", 0.0, 1.0),
            (arms[2], "impressions", 3.0, 0.0),
        }
        assert repair_counters(session, [project_id], totals) == 3
        assert find_mismatches(session, [project_id], totals) == []
    with sessions() as session:
        assert {
            (r.bandit_id, r.hour): (r.impressions, r.clicks, r.purchases)
            for r in read_deal_hours(session, project_id)
        } == {
            (arms[0], first): (1, 1, 1),
            (arms[1], first): (1, 0, 0),
            (arms[0], later): (1, 0, 0),
        }


def test_0007_fills_the_rollups_from_an_existing_log(blank: Engine) -> None:
    """History across hours, with clicks and purchases, written at 0006; 0007 rolls it up."""
    upgrade(blank, "0006")
    at = [START, START + timedelta(minutes=10), START + timedelta(hours=2, minutes=5)]
    with blank.begin() as connection:
        connection.execute(insert(User).values(email="a@x.org", name="A", created_at=START))
        connection.execute(
            insert(Project).values(project_name="Old", number_of_bandits=2, created_at=START)
        )
        connection.execute(
            insert(Bandit),
            [
                {"project_id": 1, "bandit_name": name, "alpha": 1, "beta": 1, "created_at": START}
                for name in ("A", "B")
            ],
        )
        log = [(1, at[0], True, 1, "2.50"), (1, at[1], False, 0, "0"), (2, at[2], True, 0, "0")]
        for bandit_id, when, clicked, bought, value in log:
            connection.execute(
                insert(Transaction).values(
                    customer_id=1,
                    project_id=1,
                    bandit_id=bandit_id,
                    position=1,
                    timestamp=when,
                    clicked=clicked,
                    purchases=bought,
                    purchase_value=Decimal(value),
                )
            )
        connection.execute(
            insert(Purchase).values(
                transaction_id=1, bandit_id=1, value=Decimal("2.50"), purchased_at=at[1]
            )
        )
    upgrade_to_head(blank)
    with make_session_factory(blank)() as session:
        rows = read_deal_hours(session, 1)
        assert [
            (r.bandit_id, r.hour, r.impressions, r.clicks, r.purchases, r.purchase_value)
            for r in rows
        ] == [
            (1, hour_of(at[0]), 2, 1, 1, Decimal("2.50")),
            (2, hour_of(at[2]), 1, 1, 0, Decimal(0)),
        ]
        mismatches = [m for m in find_mismatches(session) if m.table == "deal_hours"]
        assert mismatches == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_hour_is_utc_whatever_the_sessions_time_zone(
    sessions: sessionmaker[Session],
) -> None:
    """PostgreSQL truncates a timestamptz in the session's zone unless told: a half-hour zone
    would move every hour."""
    customer, project_id, arms = _campaign(sessions)
    with sessions.begin() as session:
        log_impressions(session, [Impression(customer, project_id, arms[0], 1)], START)
    with sessions.begin() as session:
        session.execute(text("SET LOCAL TIME ZONE 'Asia/Kolkata'"))
        totals = scan_log(session, [project_id])
        assert list(totals.hours) == [(arms[0], hour_of(START))]
        assert Counter(r.hour for r in read_deal_hours(session, project_id)) == {hour_of(START): 1}
