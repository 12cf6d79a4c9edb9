"""The learning loop as the web layers call it: ``await loop.rank/click/purchase(...)``.

The API routers (and through them every page, the demo storefront's strip included) go through
one :class:`LearningLoop`, so there is one way to rank and to click. An awaitable returns only
after its writes are committed: an answer that reaches a client is already durable.

Two paths, one logic (:mod:`hotdeals.services.ranking`):

* the fast path ranks from a project snapshot cached for a few milliseconds
  (:mod:`~hotdeals.services.snapshot_cache`) and hands the writes to the group commit
  (:mod:`~hotdeals.services.group_commit`), so the event loop never waits on a lock. Ranks with
  an Idempotency-Key take it too: their keys are claimed in the batch's transaction, and a key
  already used answers with the ranking it holds, logging nothing;
* the exact path (:func:`ranking.rank_deals`, one transaction, fresh reads) serves any request
  the fast path is unsure about (a paused project, no active deals, a deal deactivated since
  the snapshot), so errors are always decided on the current state; it claims keys the same way.

Every rank and click has a deadline (``HOTDEALS_REQUEST_DEADLINE_MS``), counted from the
request's arrival when the caller passes it (``arrived``: the web layers do, so time spent
waiting for the event loop or on the page's own reads counts), else from the call: its write is
awaited at most until then, and then :class:`~hotdeals.errors.ServiceBusy` (503,
``Retry-After``) is raised. The wait costs one timer on the event loop, no thread hop. Giving up
cancels the write only if the writer has not taken it yet (it is then never written, and its
key, if any, stays free); a write already taken, or an exact-path transaction already running,
may still commit, and a retry with the same Idempotency-Key (rank) or the same click
(``already_recorded``) returns the committed result without counting twice: the key is claimed
in the very transaction that logs the ranking, and a retry racing it waits for that transaction
(PostgreSQL) or comes after it (SQLite, one writer), then replays. A rank without a key that
commits after its 503 is a logged impression the customer never saw (counted exactly, like any
impression): send Idempotency-Key to avoid it. The other reads of a request (snapshot, customer
check) are bounded by the database's statement and lock timeouts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import TypeVar

import anyio.to_thread
import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.db.counters import ClickOutcome
from hotdeals.db.models import User
from hotdeals.db.purchases import PurchaseOutcome
from hotdeals.db.types import utcnow
from hotdeals.errors import ServiceBusy, TransactionNotFound, UserNotFound
from hotdeals.services import ranking
from hotdeals.services.group_batch import Replay, StaleSnapshot
from hotdeals.services.group_commit import GroupCommitter
from hotdeals.services.purchases import PurchaseReport, report_purchase
from hotdeals.services.ranking import Ranking
from hotdeals.services.snapshot import ProjectSnapshot
from hotdeals.services.snapshot_cache import SnapshotCache

_KNOWN_CUSTOMERS_CAP = 200_000

T = TypeVar("T")


class LearningLoop:
    """Rank and click for one app; shared by every request of that app."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        rng: np.random.Generator,
        *,
        snapshot_ttl: float = 0.05,
        deadline: float = 3.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.deadline = deadline
        self.rng = rng
        self.snapshots = SnapshotCache(sessions, ttl=snapshot_ttl, wall_clock=clock)
        self.writer = GroupCommitter(sessions, wall_clock=clock)
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
        arrived: float | None = None,
    ) -> Ranking:
        """The deals to show, logged as impressions (see :func:`ranking.rank_deals`); with an
        ``idempotency_key`` already used, the ranking it holds (``replayed``), logged once.

        :class:`ServiceBusy` when the write is not confirmed within :attr:`deadline` seconds of
        ``arrived`` (the event loop's time; default: now).
        """
        due = self._due(arrived)
        snapshot = await self._snapshot(project_id)
        now = self.clock()
        if not snapshot.serves(now):
            return await self._rank_exactly(project_id, customer_id, k, idempotency_key, due)
        await self._require_customer(customer_id)
        chosen = ranking.choose(snapshot, k, self.rng, now)
        impressions = ranking.impressions_for(snapshot, chosen, customer_id)
        try:
            written = await self._written(
                self.writer.log_impressions(impressions, idempotency_key), due, self._late_rank
            )
        except StaleSnapshot:
            self.snapshots.forget(project_id)
            return await self._rank_exactly(project_id, customer_id, k, idempotency_key, due)
        if isinstance(written, Replay):
            return Ranking(
                project_id, customer_id, written.deals, replayed=True, currency=snapshot.currency
            )
        return ranking.ranking_of(snapshot, chosen, customer_id, written)

    async def click(self, transaction_id: int, *, arrived: float | None = None) -> ClickOutcome:
        """Count the first click on an impression; a repeat says ``already_recorded``.

        :class:`ServiceBusy` when the click is not confirmed within :attr:`deadline` seconds of
        ``arrived`` (the event loop's time; default: now).
        """
        due = self._due(arrived)
        outcome = await self._written(
            self.writer.record_click(transaction_id), due, self._late_click
        )
        if outcome is None:
            raise TransactionNotFound(f"transaction {transaction_id} does not exist")
        return outcome

    async def purchase(
        self,
        transaction_id: int,
        report: PurchaseReport,
        *,
        trusted: bool,
        arrived: float | None = None,
    ) -> PurchaseOutcome:
        """Count a purchase once per order, and its implied click
        (:func:`~hotdeals.services.purchases.report_purchase`): one transaction on the exact
        path, as rare as it is. :class:`ServiceBusy` past the deadline, as :meth:`click`; the
        transaction may still commit, and the same report sent again says ``already_recorded``.
        """
        due = self._due(arrived)

        def run() -> PurchaseOutcome:
            with self.sessions.begin() as session:
                return report_purchase(
                    session, transaction_id, report, self.clock(), trusted=trusted
                )

        try:
            async with asyncio.timeout_at(due):
                return await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
        except TimeoutError:
            raise ServiceBusy(
                f"the purchase was not confirmed within the request deadline ({self.deadline:g}"
                " s); it may still be recorded: sending the same report again returns the"
                " committed outcome (already_recorded) and never counts it twice"
            ) from None

    def _due(self, arrived: float | None) -> float:
        start = asyncio.get_running_loop().time() if arrived is None else arrived
        return start + self.deadline

    def _late_rank(self) -> ServiceBusy:
        return ServiceBusy(
            f"the ranking was not confirmed within the request deadline ({self.deadline:g} s);"
            " it may still be logged: a retry with the same Idempotency-Key returns the"
            " committed ranking without logging it twice"
        )

    def _late_click(self) -> ServiceBusy:
        return ServiceBusy(
            f"the click was not confirmed within the request deadline ({self.deadline:g} s);"
            " it may still be recorded: sending the same click again returns the committed"
            " outcome (already_recorded) and never counts it twice"
        )

    @staticmethod
    async def _written(future: Future[T], due: float, late: Callable[[], ServiceBusy]) -> T:
        """The writer's answer, awaited until the event loop's time ``due``; then ``late()``.

        Giving up cancels ``future``: a job the writer has not taken is dropped, one it has
        taken cannot be cancelled and is written (see :mod:`~hotdeals.services.group_commit`).
        """
        try:
            async with asyncio.timeout_at(due):
                return await asyncio.wrap_future(future)
        except TimeoutError:
            raise late() from None

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
        self,
        project_id: int,
        customer_id: int,
        k: int | None,
        idempotency_key: str | None,
        due: float,
    ) -> Ranking:
        """One transaction in a worker thread. At ``due`` the request gives up with
        :class:`ServiceBusy` and leaves the thread to finish: its transaction commits or rolls
        back on its own (bounded by the statement and lock timeouts), and a retry with the same
        Idempotency-Key waits for it and returns what it committed."""

        def run() -> Ranking:
            with self.sessions.begin() as session:
                return ranking.rank_deals(
                    session,
                    project_id,
                    customer_id,
                    self.rng,
                    k=k,
                    idempotency_key=idempotency_key,
                    now=self.clock(),
                    fits=self.snapshots.fits,
                )

        try:
            async with asyncio.timeout_at(due):
                return await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
        except TimeoutError:
            raise self._late_rank() from None
