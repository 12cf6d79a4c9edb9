"""The rank fast path's snapshot cache: fresh for its TTL, dropped on this process's changes."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.db.models import Bandit, Project
from hotdeals.services.posteriors import SnapshotCache


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make_project(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as session:
        project = Project(
            project_name="p",
            number_of_bandits=2,
            bandits=[Bandit(bandit_name=f"d{i}", alpha=1, beta=1) for i in range(2)],
        )
        session.add(project)
        session.flush()
        return project.project_id


def test_a_snapshot_is_fresh_for_its_ttl_only(sessions: sessionmaker[Session]) -> None:
    clock = Clock()
    cache = SnapshotCache(sessions, ttl=0.05, clock=clock)
    pid = make_project(sessions)
    assert cache.fresh(pid) is None
    loaded = cache.load(pid)
    assert cache.fresh(pid) is loaded
    clock.now = 0.051
    assert cache.fresh(pid) is None


def test_a_committed_change_drops_the_snapshot(sessions: sessionmaker[Session]) -> None:
    cache = SnapshotCache(sessions, ttl=60, clock=Clock())
    pid = make_project(sessions)
    cache.load(pid)
    with sessions.begin() as session:
        session.get_one(Project, pid).status = "paused"
    assert cache.fresh(pid) is None
    assert cache.load(pid).status == "paused"


def test_a_rolled_back_change_keeps_the_snapshot(sessions: sessionmaker[Session]) -> None:
    cache = SnapshotCache(sessions, ttl=60, clock=Clock())
    pid = make_project(sessions)
    loaded = cache.load(pid)
    with sessions() as session:
        session.get_one(Project, pid).slots = 2
        session.flush()
        session.rollback()
    assert cache.fresh(pid) is loaded


def test_a_load_that_overlapped_a_change_is_not_kept(sessions: sessionmaker[Session]) -> None:
    cache = SnapshotCache(sessions, ttl=60, clock=Clock())
    pid = make_project(sessions)

    def change_meanwhile(_state: object) -> None:  # a change commits while the load reads
        cache.forget(pid)

    event.listen(sessions, "do_orm_execute", change_meanwhile, once=True)
    snapshot = cache.load(pid)
    assert snapshot.project_id == pid
    assert cache.fresh(pid) is None  # what it read may predate the change: not kept
    kept = cache.load(pid)
    assert cache.fresh(pid) is kept
