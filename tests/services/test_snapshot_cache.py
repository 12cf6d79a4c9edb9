"""The rank fast path's snapshot cache: fresh for its TTL, dropped on this process's changes."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.db.models import Project
from hotdeals.services.snapshot_cache import SnapshotCache
from tests.factories import make_project


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def saved_project(sessions: sessionmaker[Session]) -> int:
    """A committed project of two deals; returns its id."""
    with sessions.begin() as session:
        return make_project(session, deals=["d0", "d1"], project_name="p").project_id


def test_a_snapshot_is_fresh_for_its_ttl_only(sessions: sessionmaker[Session]) -> None:
    clock = Clock()
    cache = SnapshotCache(sessions, ttl=0.05, clock=clock)
    pid = saved_project(sessions)
    assert cache.fresh(pid) is None
    loaded = cache.load(pid)
    assert cache.fresh(pid) is loaded
    clock.now = 0.051
    assert cache.fresh(pid) is None


def test_a_committed_change_drops_the_snapshot(sessions: sessionmaker[Session]) -> None:
    cache = SnapshotCache(sessions, ttl=60, clock=Clock())
    pid = saved_project(sessions)
    cache.load(pid)
    with sessions.begin() as session:
        session.get_one(Project, pid).status = "paused"
    assert cache.fresh(pid) is None
    assert cache.load(pid).status == "paused"


def test_a_rolled_back_change_keeps_the_snapshot(sessions: sessionmaker[Session]) -> None:
    cache = SnapshotCache(sessions, ttl=60, clock=Clock())
    pid = saved_project(sessions)
    loaded = cache.load(pid)
    with sessions() as session:
        session.get_one(Project, pid).slots = 2
        session.flush()
        session.rollback()
    assert cache.fresh(pid) is loaded


def test_a_load_that_overlapped_a_change_is_not_kept(sessions: sessionmaker[Session]) -> None:
    cache = SnapshotCache(sessions, ttl=60, clock=Clock())
    pid = saved_project(sessions)

    def change_meanwhile(_state: object) -> None:  # a change commits while the load reads
        cache.forget(pid)

    event.listen(sessions, "do_orm_execute", change_meanwhile, once=True)
    snapshot = cache.load(pid)
    assert snapshot.project_id == pid
    assert cache.fresh(pid) is None  # what it read may predate the change: not kept
    kept = cache.load(pid)
    assert cache.fresh(pid) is kept
