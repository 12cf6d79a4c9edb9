"""The database refuses what the spec forbids, and the relationships load both ways."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotdeals.db.counters import Impression, log_impressions
from hotdeals.db.models import Bandit, Project, Transaction, User
from hotdeals.errors import DuplicateEmail
from hotdeals.services.users import create_user
from tests.factories import make_project, make_user


def test_duplicate_email_is_refused_as_our_own_error(session: Session) -> None:
    create_user(session, "ann@example.com", "Ann")
    with pytest.raises(DuplicateEmail, match=r"ann@example\.com"):
        create_user(session, " ANN@example.com", "Another Ann")
    # The refusal left the transaction usable and the first customer in place.
    session.commit()
    assert session.scalars(select(User.name)).all() == ["Ann"]


def test_bandit_of_an_unknown_project_is_refused(session: Session) -> None:
    with pytest.raises(IntegrityError):
        session.execute(insert(Bandit).values(project_id=999, bandit_name="x", alpha=1, beta=1))
    session.rollback()
    assert session.scalar(select(Bandit.bandit_id)) is None


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (User, {"email": None, "name": "x"}),
        (User, {"email": "a@b.c", "name": None}),
        (Project, {"project_name": None}),
    ],
)
def test_not_null_columns_refuse_nulls(
    session: Session, model: type[User] | type[Project], values: dict[str, object]
) -> None:
    with pytest.raises(IntegrityError):
        session.execute(insert(model).values(**values))
    session.rollback()


def test_a_bandit_name_may_not_be_null(session: Session) -> None:
    project = make_project(session, deals=0, project_name="p")
    with pytest.raises(IntegrityError):
        session.execute(
            insert(Bandit).values(project_id=project.project_id, bandit_name=None, alpha=1, beta=1)
        )
    session.rollback()


def test_counters_may_not_go_negative(session: Session) -> None:
    project = make_project(session, deals=0, project_name="p")
    with pytest.raises(IntegrityError):
        session.execute(
            insert(Bandit).values(
                project_id=project.project_id, bandit_name="b", alpha=1, beta=1, n=-1
            )
        )
    session.rollback()


def test_history_cannot_be_deleted_by_deleting_its_customer(session: Session) -> None:
    user = make_user(session, "bob@example.com", "Bob")
    project = make_project(session, deals=["b"], project_name="p")
    log_impressions(
        session, [Impression(user.customer_id, project.project_id, project.bandits[0].bandit_id)]
    )
    session.commit()
    session.delete(user)
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    assert session.scalar(select(Transaction.customer_id)) == user.customer_id


def test_relationships_load_both_ways(session: Session) -> None:
    user = make_user(session, "cy@example.com", "Cy")
    project = make_project(session, deals=["Strawberries"], project_name="Week 48")
    bandit = project.bandits[0]
    (transaction_id,) = log_impressions(
        session, [Impression(user.customer_id, project.project_id, bandit.bandit_id, 1)]
    )
    session.commit()
    session.expire_all()

    transaction = session.get_one(Transaction, transaction_id)
    assert transaction.user.email == "cy@example.com"
    assert transaction.bandit.bandit_name == "Strawberries"
    assert transaction.project.project_name == "Week 48"
    assert [t.transaction_id for t in user.transactions] == [transaction_id]
    assert [t.transaction_id for t in bandit.transactions] == [transaction_id]
    assert [t.transaction_id for t in project.transactions] == [transaction_id]
    assert bandit.project is project
    assert [b.bandit_name for b in project.bandits] == ["Strawberries"]
    assert transaction.timestamp.tzinfo is not None
    assert transaction.clicked is False
