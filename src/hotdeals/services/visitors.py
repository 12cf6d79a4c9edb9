"""Anonymous visitors: a page's opaque visitor id becomes a ``users`` row on first sight.

A shop's page knows no customer id, and must not: an id in a browser can be probed or borrowed.
It sends the visitor id it keeps (the strip keeps one in ``localStorage``), and every impression
still gets a customer foreign key, as the spec requires: the visitor's own row, with no
personal data. The spec's NOT NULL ``email`` and ``name`` hold placeholders (a hash of the id
in the reserved ``visitors.invalid`` domain, which sign-up refuses, and "Visitor").

Rows are never deleted, so a resolved id is cached per process (capped) and a repeat visitor
costs no database round trip. On a miss one transaction looks the id up; if absent another
inserts it, and a concurrent insert of the same id (the unique column decides) is read back:
each visitor gets exactly one row, without savepoints.

A signed-in customer of our own storefront reaches the strip the same way: the page renders
:func:`visitor_id_for` that customer, a random id stored once in their own ``users.visitor_id``,
so :class:`Visitors` maps it to their row and the strip's ranks log impressions for them. It is
not derived from the customer id: a page holds nothing to guess another customer's by.
"""

from __future__ import annotations

import hashlib
import secrets

import anyio.to_thread
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.db.models import User
from hotdeals.errors import UserNotFound
from hotdeals.vocabulary import VISITOR_EMAIL_DOMAIN

VISITOR_NAME = "Visitor"
_CACHE_CAP = 200_000


def placeholder_email(visitor_id: str) -> str:
    """A unique, reserved, non-personal email for a visitor's row."""
    digest = hashlib.sha256(visitor_id.encode()).hexdigest()[:40]
    return f"{digest}@{VISITOR_EMAIL_DOMAIN}"


def visitor_id_for(session: Session, customer_id: int) -> str:
    """The customer's visitor id, set to a random one on first use; :class:`UserNotFound` if the
    customer does not exist.

    Set only while still NULL (a conditional UPDATE) and then read back, so two concurrent first
    page views of one customer agree on the id whichever UPDATE wins; the caller commits.
    """
    stored = session.scalar(select(User.visitor_id).where(User.customer_id == customer_id))
    if stored is None:
        session.execute(
            update(User)
            .where(User.customer_id == customer_id, User.visitor_id.is_(None))
            .values(visitor_id=f"c-{secrets.token_urlsafe(16)}")
            .execution_options(synchronize_session=False)
        )
        stored = session.scalar(select(User.visitor_id).where(User.customer_id == customer_id))
    if stored is None:
        raise UserNotFound(f"customer {customer_id} does not exist")
    return stored


class Visitors:
    """Visitor ids to customer ids, for one app (process)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._known: dict[str, int] = {}

    def cached(self, visitor_id: str) -> int | None:
        """The visitor's customer id if this process has seen it, without a round trip."""
        return self._known.get(visitor_id)

    async def customer_id(self, visitor_id: str) -> int:
        """The visitor's customer id, creating their row on first sight."""
        known = self._known.get(visitor_id)
        if known is not None:
            return known
        customer_id = await anyio.to_thread.run_sync(self.resolve, visitor_id)
        if len(self._known) >= _CACHE_CAP:
            self._known.clear()
        self._known[visitor_id] = customer_id
        return customer_id

    def resolve(self, visitor_id: str) -> int:
        """Look up or insert the visitor's row (blocking); the unique column decides races."""
        found = self._lookup(visitor_id)
        if found is not None:
            return found
        try:
            with self.sessions.begin() as session:
                user = User(
                    email=placeholder_email(visitor_id), name=VISITOR_NAME, visitor_id=visitor_id
                )
                session.add(user)
                session.flush()
                return user.customer_id
        except IntegrityError:
            found = self._lookup(visitor_id)  # another request inserted it meanwhile
            if found is None:
                raise
            return found

    def _lookup(self, visitor_id: str) -> int | None:
        with self.sessions() as session:
            return session.scalar(select(User.customer_id).where(User.visitor_id == visitor_id))
