"""A signed-in customer's visitor id: set once, shared by concurrent page views, mapped back."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.db.models import User
from hotdeals.errors import UserNotFound
from hotdeals.services import users
from hotdeals.services.visitors import Visitors, visitor_id_for

VISIBLE_ASCII = set(map(chr, range(0x21, 0x7F)))


def stored_visitor_id(sessions: sessionmaker[Session], customer_id: int) -> str | None:
    with sessions() as session:
        return session.scalar(select(User.visitor_id).where(User.customer_id == customer_id))


def test_a_customers_visitor_id_is_set_once_and_then_reused(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        customer = users.create_user(session, "ann@example.com", "Ann").customer_id
        guest = users.create_guest(session).customer_id
    assert stored_visitor_id(sessions, customer) is None
    with sessions.begin() as session:
        first = visitor_id_for(session, customer)
    with sessions.begin() as session:
        assert visitor_id_for(session, customer) == first
        other = visitor_id_for(session, guest)
    assert stored_visitor_id(sessions, customer) == first
    assert first.startswith("c-")
    assert 16 <= len(first) <= 128
    assert set(first) <= VISIBLE_ASCII  # what the strip and the rank API accept
    assert other != first


def test_the_visitor_service_maps_the_id_back_to_the_customer(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        customer = users.create_user(session, "bob@example.com", "Bob").customer_id
        visitor_id = visitor_id_for(session, customer)
    assert Visitors(sessions).resolve(visitor_id) == customer
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1  # no visitor row


def test_a_visitors_own_row_keeps_its_id(sessions: sessionmaker[Session]) -> None:
    customer = Visitors(sessions).resolve("v-strip-visitor")
    with sessions.begin() as session:
        assert visitor_id_for(session, customer) == "v-strip-visitor"


def test_an_unknown_customer_has_no_visitor_id(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session, pytest.raises(UserNotFound):
        visitor_id_for(session, 4242)


def test_two_concurrent_first_page_views_agree_on_the_visitor_id(
    sessions: sessionmaker[Session],
) -> None:
    rounds = 8
    with sessions.begin() as session:
        customers = [
            users.create_user(session, f"c{i}@example.com", f"C {i}").customer_id
            for i in range(rounds)
        ]
    barrier = threading.Barrier(2, timeout=30)

    def first_page_view(customer_id: int) -> str:
        barrier.wait()  # both page views start together, each in its own transaction
        with sessions.begin() as session:
            return visitor_id_for(session, customer_id)

    with ThreadPoolExecutor(max_workers=2) as pool:
        for customer in customers:
            views = [pool.submit(first_page_view, customer) for _ in range(2)]
            first, second = (view.result(timeout=60) for view in views)
            assert first == second == stored_visitor_id(sessions, customer)
