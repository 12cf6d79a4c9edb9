"""Customers: create, look up, list; and the shop's sign-in by email or as a guest."""

from __future__ import annotations

import secrets

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotdeals.db.models import User
from hotdeals.errors import DuplicateEmail, InvalidRequest, UserNotFound
from hotdeals.services.pagination import Page
from hotdeals.services.specs import CustomerSpec
from hotdeals.vocabulary import MAX_EMAIL

GUEST_DOMAIN = "guest.invalid"  # RFC 2606: can never be a real mailbox
GUEST_NAME = "Guest"


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


# Signing in at the shop ------------------------------------------------------------------


class SignInRefused(InvalidRequest):
    """Why a sign-in by email cannot go on; the page words each case for the shopper."""


class EmailMissing(SignInRefused):
    """No email address was given."""


class NameMissing(SignInRefused):
    """The email is new, so a customer is created, and a customer needs a name."""


class CustomerInvalid(SignInRefused):
    """The email or the name breaks the vocabulary's rules; ``problems`` holds (field, why)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {why}" for field, why in problems))
        self.problems = problems


def sign_in_by_email(session: Session, email: str, name: str) -> User:
    """The customer with this email, or a new customer with ``name`` if the email is new.

    An existing customer needs no name. Raises a :class:`SignInRefused` for what the shopper
    must correct; a concurrent sign-up with the same email finds that customer instead.
    """
    if not email.strip():
        raise EmailMissing("an email address is needed to sign in")
    # No stored address holds a NUL (every way in validates it) and PostgreSQL cannot even
    # compare one, so such an email is left to the validation below.
    existing = None if "\x00" in email else find_user_by_email(session, email[:MAX_EMAIL])
    if existing is not None:
        return existing
    if not name.strip():
        raise NameMissing(f"no customer has the email {normalise_email(email)!r}: give a name")
    try:
        spec = CustomerSpec.model_validate({"email": email, "name": name})
    except ValidationError as exc:
        raise CustomerInvalid(
            [(str(e["loc"][0]) if e["loc"] else "email", e["msg"]) for e in exc.errors()]
        ) from None
    try:
        return create_user(session, str(spec.email), spec.name)
    except DuplicateEmail:  # someone signed up with it a moment ago
        again = find_user_by_email(session, str(spec.email))
        if again is None:
            raise
        return again


def create_guest(session: Session) -> User:
    """A customer of our own for a shopper without an account, so the ranking still learns."""
    return create_user(session, f"guest-{secrets.token_hex(8)}@{GUEST_DOMAIN}", GUEST_NAME)


def is_guest(user: User) -> bool:
    return user.email.endswith("@" + GUEST_DOMAIN)
