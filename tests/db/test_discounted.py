"""Forgetting's discounted state: kept incrementally, it equals the log's rebuild at any time."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.bandit.forgetting import discounted_sum
from hotdeals.db.audit import find_mismatches, repair_counters
from hotdeals.db.counters import (
    BanditState,
    Impression,
    apply_counts,
    log_impressions,
    record_click,
)
from hotdeals.db.discounted import rebuilt_from_log, seen_at
from hotdeals.db.models import Bandit, Transaction
from tests.factories import make_project, make_user

ARMS = 3
START = datetime(2026, 12, 1, tzinfo=UTC)
# A step is either "show these arms, minutes later" or "click the i-th impression, minutes later".
steps = st.lists(
    st.tuples(
        st.integers(0, 600),
        st.one_of(
            st.lists(st.integers(0, ARMS - 1), min_size=1, max_size=ARMS, unique=True),
            st.integers(0, 40),
        ),
    ),
    max_size=20,
)


def _seen(
    session: Session, bandit_id: int, at: float, half_life_hours: float
) -> tuple[float, float]:
    bandit = session.get(Bandit, bandit_id)
    assert bandit is not None
    return seen_at(bandit, at, half_life_hours)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=steps, half_life=st.sampled_from([0.5, 6.0, 72.0]))
def test_the_kept_state_equals_the_logs_rebuild(
    sessions: sessionmaker[Session], script: list[tuple[int, list[int] | int]], half_life: float
) -> None:
    with sessions.begin() as session:
        user = make_user(session, f"{uuid.uuid4().hex}@example.com", "u")
        project = make_project(session, deals=ARMS, half_life_hours=half_life, prior_beta=20.0)
        arm_ids = [b.bandit_id for b in project.bandits]
        ids = (user.customer_id, project.project_id)
    now = START
    shown: list[int] = []
    for minutes, step in script:
        now += timedelta(minutes=minutes)
        with sessions.begin() as session:
            if isinstance(step, list):
                impressions = [
                    Impression(ids[0], ids[1], arm_ids[arm], slot + 1)
                    for slot, arm in enumerate(step)
                ]
                shown += log_impressions(session, impressions, now)
            elif shown:
                record_click(session, shown[step % len(shown)], now)
    later = (now + timedelta(hours=5)).timestamp()
    h = half_life * 3600
    with sessions() as session:
        rebuilt = rebuilt_from_log(session, [project.project_id], later)
        for bandit_id in arm_ids:
            rows = session.execute(
                select(Transaction.timestamp, Transaction.clicked_at).where(
                    Transaction.bandit_id == bandit_id
                )
            ).all()
            # The closed form, from the log's own times, in Python.
            expected = (
                discounted_sum([r.timestamp.timestamp() for r in rows], later, h),
                discounted_sum([r.clicked_at.timestamp() for r in rows if r.clicked_at], later, h),
            )
            kept = _seen(session, bandit_id, later, half_life)
            assert kept == pytest.approx(expected, rel=1e-9, abs=1e-12)
            assert rebuilt.get(bandit_id, (0.0, 0.0)) == pytest.approx(expected, rel=1e-6)
        assert find_mismatches(session, [project.project_id]) == []


def test_db_check_finds_and_repairs_a_corrupted_discounted_state(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        user = make_user(session, "a@example.com", "a")
        project = make_project(session, deals=2, half_life_hours=24.0)
        arm = project.bandits[0].bandit_id
        ids = log_impressions(
            session, [Impression(user.customer_id, project.project_id, arm, 1)] * 4, START
        )
        record_click(session, ids[0], START + timedelta(hours=1))
        session.execute(update(Bandit).where(Bandit.bandit_id == arm).values(discounted_clicks=7.0))
    with sessions.begin() as session:
        found = find_mismatches(session, [project.project_id])
        assert [(m.row_id, m.column) for m in found] == [(arm, "discounted_clicks")]
        assert repair_counters(session, [project.project_id]) == 1
    with sessions() as session:
        assert find_mismatches(session, [project.project_id]) == []
        bandit = session.get(Bandit, arm)
        assert bandit is not None
        assert bandit.discounted_at is not None
        shown, clicked = seen_at(bandit, (START + timedelta(hours=25)).timestamp(), 24.0)
        assert shown == pytest.approx(4 * 0.5 ** (25 / 24))
        assert clicked == pytest.approx(0.5)


def test_a_campaign_without_half_life_keeps_no_discounted_state(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        user = make_user(session, "a@example.com", "a")
        project = make_project(session, deals=2)
        arm = project.bandits[0].bandit_id
        log_impressions(session, [Impression(user.customer_id, project.project_id, arm, 1)])
    with sessions() as session:
        bandit = session.get(Bandit, arm)
        assert bandit is not None
        assert (bandit.discounted_impressions, bandit.discounted_at) == (0.0, None)
        assert rebuilt_from_log(session, None, START.timestamp()) == {}


def test_each_deal_is_counted_with_its_own_campaigns_state(sessions: sessionmaker[Session]) -> None:
    """A regression: the counters' RETURNING read the first campaign's status and half-life for
    every deal on SQLite (a bare ``project_id = project_id`` in its subquery)."""
    with sessions.begin() as session:
        first = make_project(session, deals=1, half_life_hours=0.5)
        first.status = "paused"
        second = make_project(session, deals=1, project_name="second", half_life_hours=6.0)
        deals = {p.project_id: p.bandits[0].bandit_id for p in (first, second)}
        states = apply_counts(session, shown=Counter(deals.values()))
    assert states[deals[first.project_id]] == BanditState(True, False, 0.5)
    assert states[deals[second.project_id]] == BanditState(True, True, 6.0)
