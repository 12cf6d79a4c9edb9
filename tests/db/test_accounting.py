"""The README's accounting invariants hold after any sequence of impressions and clicks."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.db.audit import find_mismatches
from hotdeals.db.counters import Impression, log_impressions, record_click
from hotdeals.db.models import Bandit
from hotdeals.db.slot_counters import read_slot_counts
from hotdeals.errors import TransactionNotFound
from tests.factories import make_project, make_user

ARMS = 3
# An operation is either "show these arms" (a list of arm indices) or "click the i-th impression".
operations = st.lists(
    st.one_of(
        st.lists(st.integers(0, ARMS - 1), min_size=1, max_size=ARMS, unique=True),
        st.integers(0, 50),
    ),
    max_size=25,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ops=operations, prior=st.sampled_from([(1.0, 1.0), (0.5, 2.0)]))
def test_counters_follow_the_log(
    sessions: sessionmaker[Session], ops: list[list[int] | int], prior: tuple[float, float]
) -> None:
    with sessions.begin() as session:
        # Hypothesis runs every example on the same database: each needs its own customer.
        user = make_user(session, f"{uuid.uuid4().hex}@example.com", "u")
        project = make_project(
            session,
            deals=[f"arm {i}" for i in range(ARMS)],
            project_name="p",
            prior_alpha=prior[0],
            prior_beta=prior[1],
        )
        arm_ids = [b.bandit_id for b in project.bandits]
        ids = (user.customer_id, project.project_id)

    shown: list[tuple[int, int, int]] = []  # (transaction id, arm index, slot)
    clicked: set[int] = set()
    for op in ops:
        with sessions.begin() as session:
            if isinstance(op, list):
                impressions = [
                    Impression(ids[0], ids[1], arm_ids[arm], position)
                    for position, arm in enumerate(op, start=1)
                ]
                new = log_impressions(session, impressions)
                shown.extend(
                    (tid, arm, slot)
                    for slot, (tid, arm) in enumerate(zip(new, op, strict=True), start=1)
                )
            elif op < len(shown):
                transaction_id = shown[op][0]
                outcome = record_click(session, transaction_id)
                assert outcome.already_recorded == (transaction_id in clicked)
                clicked.add(transaction_id)

    impressions_per_arm = Counter(arm for _, arm, _ in shown)
    clicks_per_arm = Counter(arm for tid, arm, _ in shown if tid in clicked)
    per_slot = Counter((arm_ids[arm], slot) for _, arm, slot in shown)
    clicks_per_slot = Counter((arm_ids[arm], slot) for tid, arm, slot in shown if tid in clicked)
    with sessions() as session:
        assert find_mismatches(session, [ids[1]]) == []
        assert {
            (c.bandit_id, c.position): (c.impressions, c.clicks)
            for c in read_slot_counts(session, ids[1])
        } == {pair: (n, clicks_per_slot[pair]) for pair, n in per_slot.items()}
        for index, bandit in enumerate(
            session.scalars(
                select(Bandit).where(Bandit.project_id == ids[1]).order_by(Bandit.bandit_id)
            )
        ):
            n, s = impressions_per_arm[index], clicks_per_arm[index]
            assert (bandit.n, bandit.number_of_success, bandit.number_of_failures) == (n, s, n - s)
            assert bandit.alpha == pytest.approx(prior[0] + s)
            assert bandit.beta == pytest.approx(prior[1] + n - s)


def test_a_click_on_an_unknown_transaction_is_refused(session: Session) -> None:
    with pytest.raises(TransactionNotFound, match="424242"):
        record_click(session, 424242)
