"""A per-process cache of project snapshots for the rank fast path.

Reading a project and its arms on every rank costs a database round trip per request and holds
nothing we cannot afford to see a few milliseconds late: a bandit learns just as well from a
posterior that is 50 ms old. Each snapshot is reloaded once it is older than the TTL, and is
dropped at once when this process changes the project or its deals (so an analyst's own
change is visible immediately); other processes' changes arrive within the TTL, and the group
commit re-checks status and activity inside its transaction, so nothing is ever logged for a
paused project or a deactivated deal.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.db.models import Bandit, Project
from hotdeals.db.types import utcnow
from hotdeals.services.slot_effects import ExaminationFits
from hotdeals.services.snapshot import ProjectSnapshot, load_snapshot


class SnapshotCache:
    """Project snapshots by id, each valid for ``ttl`` seconds."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        ttl: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.ttl = ttl
        self.clock = clock
        self.wall_clock = wall_clock  # the time discounted posteriors are seen at
        self._entries: dict[int, tuple[float, ProjectSnapshot]] = {}
        self.fits = ExaminationFits()
        # Bumped by every forget: a load that overlapped a change must not cache what it read.
        self._generation: dict[int, int] = {}
        event.listen(sessions, "after_flush", self._note_changes)
        event.listen(sessions, "after_commit", self._forget_changed)
        event.listen(sessions, "after_rollback", self._drop_notes)

    def fresh(self, project_id: int) -> ProjectSnapshot | None:
        """The cached snapshot if it is younger than the TTL, else None."""
        entry = self._entries.get(project_id)
        if entry is None or self.clock() - entry[0] > self.ttl:
            return None
        return entry[1]

    def load(self, project_id: int) -> ProjectSnapshot:
        """Read the snapshot from the database (blocking) and keep it."""
        loaded_at = self.clock()
        generation = self._generation.get(project_id, 0)
        with self.sessions() as session:
            snapshot = load_snapshot(session, project_id, self.fits, self.wall_clock())
        if self._generation.get(project_id, 0) == generation:
            self._entries[project_id] = (loaded_at, snapshot)
        return snapshot

    def forget(self, project_id: int) -> None:
        self._generation[project_id] = self._generation.get(project_id, 0) + 1
        self._entries.pop(project_id, None)

    def _note_changes(self, session: Session, _context: object) -> None:
        changed = session.info.setdefault(_CHANGED, set())
        for item in (*session.new, *session.dirty, *session.deleted):
            if isinstance(item, Project | Bandit):
                changed.add(item.project_id)

    def _forget_changed(self, session: Session) -> None:
        """After the commit, not the flush: a reload in between would cache the old state."""
        for project_id in session.info.pop(_CHANGED, ()):
            self.forget(project_id)

    def _drop_notes(self, session: Session) -> None:
        session.info.pop(_CHANGED, None)


_CHANGED = "hotdeals.changed_projects"
