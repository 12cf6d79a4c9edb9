"""The shop's sign-in as a use case: find or create a customer by email, or make a guest."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.db.models import User
from hotdeals.errors import InvalidRequest
from hotdeals.services import users
from hotdeals.vocabulary import MAX_EMAIL, MAX_NAME


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def test_a_new_email_becomes_a_customer_with_the_name_given(session: Session) -> None:
    user = users.sign_in_by_email(session, " Zoe@Example.com ", "  Zoe  ")
    assert (user.email, user.name) == ("zoe@example.com", "Zoe")
    assert user.customer_id is not None
    assert not users.is_guest(user)
    assert count(session) == 1


def test_a_known_email_finds_its_customer_whatever_the_case_and_needs_no_name(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        first = users.sign_in_by_email(session, "zoe@example.com", "Zoe").customer_id
    with sessions.begin() as session:
        for email, name in [("ZOE@example.com", ""), (" zoe@example.com", "Someone else")]:
            again = users.sign_in_by_email(session, email, name)
            assert (again.customer_id, again.name) == (first, "Zoe")
        assert count(session) == 1


@pytest.mark.parametrize("email", ["", "   ", "\t"])
def test_no_email_is_refused_first(session: Session, email: str) -> None:
    with pytest.raises(users.EmailMissing):
        users.sign_in_by_email(session, email, "Ann")
    assert count(session) == 0


@pytest.mark.parametrize("name", ["", "   "])
def test_a_new_email_without_a_name_asks_for_one(session: Session, name: str) -> None:
    with pytest.raises(users.NameMissing):
        users.sign_in_by_email(session, "new@example.com", name)
    assert count(session) == 0


@pytest.mark.parametrize(
    ("email", "name", "fields"),
    [
        ("not-an-email", "Ann", ["email"]),
        ("ann@example.com", "x" * (MAX_NAME + 1), ["name"]),
        ("ann@example.com", "Ann\x00", ["name"]),
        ("a" * MAX_EMAIL + "@example.com", "Ann", ["email"]),
        ("nul\x00@example.com", "Ann", ["email"]),  # PostgreSQL could not even look it up
        ("not-an-email", "x" * (MAX_NAME + 1), ["email", "name"]),
    ],
)
def test_an_invalid_email_or_name_names_each_field(
    session: Session, email: str, name: str, fields: list[str]
) -> None:
    with pytest.raises(users.CustomerInvalid) as refused:
        users.sign_in_by_email(session, email, name)
    assert [field for field, _why in refused.value.problems] == fields
    assert isinstance(refused.value, InvalidRequest)
    assert refused.value.status_code == 400
    assert count(session) == 0


def test_a_sign_up_that_loses_a_race_finds_the_winner(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with sessions.begin() as session:
        winner = users.create_user(session, "race@example.com", "First").customer_id
    lookups: list[str] = []
    found = users.find_user_by_email

    def late(session: Session, email: str) -> User | None:
        """The first lookup runs before the other sign-up commits: it finds nobody."""
        lookups.append(email)
        return None if len(lookups) == 1 else found(session, email)

    monkeypatch.setattr(users, "find_user_by_email", late)
    with sessions.begin() as session:
        user = users.sign_in_by_email(session, "race@example.com", "Second")
        assert (user.customer_id, user.name) == (winner, "First")
        assert count(session) == 1  # the refused INSERT left the transaction usable
    assert len(lookups) == 2


def test_a_guest_is_a_customer_of_our_own(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        guests = [users.create_guest(session) for _ in range(3)]
        for guest in guests:
            assert guest.name == users.GUEST_NAME
            assert re.fullmatch(r"guest-[0-9a-f]{16}@guest\.invalid", guest.email)
            assert users.is_guest(guest)
        assert len({g.customer_id for g in guests}) == 3
    with sessions() as session:
        assert count(session) == 3
        assert users.is_guest(users.get_user(session, guests[0].customer_id))
