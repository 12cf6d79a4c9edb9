"""The learning loop as the web layers call it: ``await loop.rank(...)``, ``await loop.click(...)``.

The API routers and the storefront pages both go through one :class:`LearningLoop`, so there is
one way to rank and to click. Each call is one database transaction, committed before the
awaitable returns: an answer that reaches a client is already durable.
"""

from __future__ import annotations

import anyio.to_thread
import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.db.counters import ClickOutcome
from hotdeals.services import ranking
from hotdeals.services.ranking import Ranking


class LearningLoop:
    """Rank and click for one app; shared by every request of that app."""

    def __init__(self, sessions: sessionmaker[Session], rng: np.random.Generator) -> None:
        self.sessions = sessions
        self.rng = rng

    async def rank(
        self,
        project_id: int,
        customer_id: int,
        *,
        k: int | None = None,
        idempotency_key: str | None = None,
    ) -> Ranking:
        """The deals to show, logged as impressions (see :func:`ranking.rank_deals`)."""

        def run() -> Ranking:
            with self.sessions.begin() as session:
                return ranking.rank_deals(
                    session,
                    project_id,
                    customer_id,
                    self.rng,
                    k=k,
                    idempotency_key=idempotency_key,
                )

        return await anyio.to_thread.run_sync(run)

    async def click(self, transaction_id: int) -> ClickOutcome:
        """Count the first click on an impression (see :func:`ranking.click`)."""

        def run() -> ClickOutcome:
            with self.sessions.begin() as session:
                return ranking.click(session, transaction_id)

        return await anyio.to_thread.run_sync(run)

    async def close(self) -> None:
        """Release what the loop holds; called when the app shuts down."""
