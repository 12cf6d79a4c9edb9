"""Customers: create, look up, list."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotdeals.db.models import User
from hotdeals.errors import DuplicateEmail, UserNotFound
from hotdeals.services.pagination import Page


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively in practice; store them lower-cased and trimmed."""
    return email.strip().lower()


def create_user(session: Session, email: str, name: str) -> User:
    """Register a customer; a second customer with the same email is refused.

    The UNIQUE constraint decides, not a prior SELECT, so two concurrent sign-ups with one email
    cannot both succeed; the savepoint keeps the caller's transaction usable after a refusal.
    """
    user = User(email=normalise_email(email), name=name.strip())
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError:
        raise DuplicateEmail(f"a customer with email {user.email!r} already exists") from None
    return user


def get_user(session: Session, customer_id: int) -> User:
    user = session.get(User, customer_id)
    if user is None:
        raise UserNotFound(f"customer {customer_id} does not exist")
    return user


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == normalise_email(email))).first()


def list_users(session: Session, *, limit: int, offset: int) -> Page[User]:
    total = session.scalar(select(func.count()).select_from(User)) or 0
    items = session.scalars(
        select(User).order_by(User.customer_id).limit(limit).offset(offset)
    ).all()
    return Page(list(items), total, limit, offset)
