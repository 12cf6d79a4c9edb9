"""The learning loop as the web layers call it: ``await loop.rank(...)``, ``await loop.click(...)``.

The API routers and the storefront pages both go through one :class:`LearningLoop`, so there is
one way to rank and to click. An awaitable returns only after its writes are committed: an
answer that reaches a client is already durable.

Two paths, one logic (:mod:`hotdeals.services.ranking`):

* the fast path ranks from a project snapshot cached for a few milliseconds
  (:mod:`~hotdeals.services.snapshot_cache`) and hands the writes to the group commit
  (:mod:`~hotdeals.services.group_commit`), so the event loop never waits on a lock;
* the exact path (:func:`ranking.rank_deals`, one transaction, fresh reads) serves
  Idempotency-Key requests, and any request the fast path is unsure about (a paused project, a
  deal deactivated since the snapshot), so errors are always decided on the current state.
"""

from __future__ import annotations

import asyncio

import anyio.to_thread
import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.db.counters import ClickOutcome
from hotdeals.db.models import User
from hotdeals.errors import TransactionNotFound, UserNotFound
from hotdeals.services import ranking
from hotdeals.services.group_commit import GroupCommitter, StaleSnapshot
from hotdeals.services.ranking import ProjectSnapshot, Ranking
from hotdeals.services.snapshot_cache import SnapshotCache

_KNOWN_CUSTOMERS_CAP = 200_000


class LearningLoop:
    """Rank and click for one app; shared by every request of that app."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        rng: np.random.Generator,
        *,
        snapshot_ttl: float = 0.05,
    ) -> None:
        self.sessions = sessions
        self.rng = rng
        self.snapshots = SnapshotCache(sessions, ttl=snapshot_ttl)
        self.writer = GroupCommitter(sessions)
        self._loading: dict[int, asyncio.Future[ProjectSnapshot]] = {}
        # Customers are never deleted (their history holds them), so "exists" cannot go stale.
        self._known_customers: set[int] = set()

    async def rank(
        self,
        project_id: int,
        customer_id: int,
        *,
        k: int | None = None,
        idempotency_key: str | None = None,
    ) -> Ranking:
        """The deals to show, logged as impressions (see :func:`ranking.rank_deals`)."""
        if idempotency_key is not None:
            return await self._rank_exactly(project_id, customer_id, k, idempotency_key)
        snapshot = await self._snapshot(project_id)
        if snapshot.status != "running" or not snapshot.arm_ids:
            return await self._rank_exactly(project_id, customer_id, k, None)
        await self._require_customer(customer_id)
        chosen = ranking.choose(snapshot, k, self.rng)
        impressions = ranking.impressions_for(snapshot, chosen, customer_id)
        try:
            ids = await asyncio.wrap_future(self.writer.log_impressions(impressions))
        except StaleSnapshot:
            self.snapshots.forget(project_id)
            return await self._rank_exactly(project_id, customer_id, k, None)
        return ranking.ranking_of(snapshot, chosen, customer_id, ids)

    async def click(self, transaction_id: int) -> ClickOutcome:
        """Count the first click on an impression; a repeat says ``already_recorded``."""
        outcome = await asyncio.wrap_future(self.writer.record_click(transaction_id))
        if outcome is None:
            raise TransactionNotFound(f"transaction {transaction_id} does not exist")
        return outcome

    async def close(self) -> None:
        """Commit what is queued and stop the writer; called when the app shuts down."""
        await anyio.to_thread.run_sync(self.writer.close)

    async def _snapshot(self, project_id: int) -> ProjectSnapshot:
        """The cached snapshot, or one load shared by every request that needs it meanwhile."""
        cached = self.snapshots.fresh(project_id)
        if cached is not None:
            return cached
        pending = self._loading.get(project_id)
        if pending is None:
            pending = asyncio.ensure_future(
                anyio.to_thread.run_sync(self.snapshots.load, project_id)
            )
            self._loading[project_id] = pending
            pending.add_done_callback(lambda _: self._loading.pop(project_id, None))
        return await asyncio.shield(pending)

    async def _require_customer(self, customer_id: int) -> None:
        if customer_id in self._known_customers:
            return

        def exists() -> bool:
            with self.sessions() as session:
                return session.get(User, customer_id) is not None

        if not await anyio.to_thread.run_sync(exists):
            raise UserNotFound(f"customer {customer_id} does not exist")
        if len(self._known_customers) >= _KNOWN_CUSTOMERS_CAP:
            self._known_customers.clear()
        self._known_customers.add(customer_id)

    async def _rank_exactly(
        self, project_id: int, customer_id: int, k: int | None, idempotency_key: str | None
    ) -> Ranking:
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
