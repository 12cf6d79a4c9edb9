"""Group commit: many writers, one transaction, every result exact and isolated."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.db.audit import find_mismatches
from hotdeals.db.counters import Impression
from hotdeals.db.models import Bandit, Transaction
from hotdeals.services.group_batch import StaleSnapshot
from hotdeals.services.group_commit import GroupCommitter
from tests.factories import make_project, make_user


@pytest.fixture
def writer(sessions: sessionmaker[Session]) -> Iterator[GroupCommitter]:
    committer = GroupCommitter(sessions)
    yield committer
    committer.close()


@pytest.fixture
def setup(sessions: sessionmaker[Session]) -> tuple[int, int, list[int]]:
    """A customer and a running project with three deals."""
    with sessions.begin() as session:
        user = make_user(session, "gc@example.com", "GC")
        project = make_project(session, deals=["d0", "d1", "d2"], project_name="gc")
        return user.customer_id, project.project_id, [b.bandit_id for b in project.bandits]


def test_queued_ranks_and_clicks_all_land_exactly(
    writer: GroupCommitter, sessions: sessionmaker[Session], setup: tuple[int, int, list[int]]
) -> None:
    customer, project, arms = setup
    ranks = [
        writer.log_impressions([Impression(customer, project, arms[i % 3], 1)]) for i in range(60)
    ]
    ids = [f.result(timeout=30)[0] for f in ranks]
    assert len(set(ids)) == 60
    clicks = [writer.record_click(t) for t in ids[:20] + ids[:5]]
    outcomes = [f.result(timeout=30) for f in clicks]
    assert all(o is not None for o in outcomes)
    assert sum(1 for o in outcomes if o is not None and not o.already_recorded) == 20
    with sessions() as session:
        assert find_mismatches(session) == []
        assert session.scalar(select(func.sum(Bandit.n))) == 60
        assert session.scalar(select(func.sum(Bandit.number_of_success))) == 20


def test_an_unknown_click_says_none(writer: GroupCommitter) -> None:
    assert writer.record_click(987654).result(timeout=30) is None


def test_a_deal_deactivated_after_ranking_is_not_logged(
    writer: GroupCommitter, sessions: sessionmaker[Session], setup: tuple[int, int, list[int]]
) -> None:
    customer, project, arms = setup
    with sessions.begin() as session:
        session.get_one(Bandit, arms[0]).active = False
    stale = writer.log_impressions([Impression(customer, project, arms[0], 1)])
    fresh = writer.log_impressions([Impression(customer, project, arms[1], 1)])
    with pytest.raises(StaleSnapshot):
        stale.result(timeout=30)
    assert len(fresh.result(timeout=30)) == 1
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Transaction)) == 1


def test_one_bad_job_does_not_fail_the_batch(
    writer: GroupCommitter, sessions: sessionmaker[Session], setup: tuple[int, int, list[int]]
) -> None:
    customer, project, arms = setup
    jobs = [writer.log_impressions([Impression(customer, project, arms[0], 1)]) for _ in range(5)]
    bad = writer.log_impressions([Impression(999_999, project, arms[1], 1)])  # no such customer
    jobs += [writer.log_impressions([Impression(customer, project, arms[2], 1)]) for _ in range(5)]
    with pytest.raises(IntegrityError):
        bad.result(timeout=30)
    assert all(len(j.result(timeout=30)) == 1 for j in jobs)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Transaction)) == 10
        assert find_mismatches(session) == []
