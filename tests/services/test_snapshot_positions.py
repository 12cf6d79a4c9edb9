"""Ranking by position-corrected posteriors: the snapshot reads them from the slot counters."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.bandit.positions import corrected_posteriors, fit_examination
from hotdeals.db.counters import Impression, log_impressions, record_click
from hotdeals.services.snapshot import load_snapshot
from tests.factories import make_project, make_user

# (slot order of the deals shown, clicked slots): deals rotate through the slots, and slot 1
# collects most clicks, so the fit finds lower slots less examined.
VISITS = [((0, 1, 2), {1}), ((1, 2, 0), {1, 2}), ((2, 0, 1), {1}), ((0, 2, 1), {1, 3})] * 5


def logged(sessions: sessionmaker[Session], correction: bool) -> tuple[int, list[int]]:
    with sessions.begin() as session:
        user = make_user(session)
        project = make_project(session, 3, slots=3, position_correction=correction)
        ids = [b.bandit_id for b in project.bandits]
        pid, uid = project.project_id, user.customer_id
    for order, clicked in VISITS:
        with sessions.begin() as session:
            shown = [Impression(uid, pid, ids[d], slot) for slot, d in enumerate(order, 1)]
            transactions = log_impressions(session, shown)
            for slot in clicked:
                record_click(session, transactions[slot - 1])
    return pid, ids


def counts(ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
    impressions = np.zeros((3, 3), dtype=np.int64)
    clicks = np.zeros((3, 3), dtype=np.int64)
    for order, clicked in VISITS:
        for slot, d in enumerate(order, 1):
            impressions[d, slot - 1] += 1
            clicks[d, slot - 1] += slot in clicked
    return impressions, clicks


@pytest.mark.parametrize("correction", [True, False])
def test_the_snapshot_ranks_from_corrected_posteriors_when_the_campaign_asks(
    sessions: sessionmaker[Session], correction: bool
) -> None:
    pid, ids = logged(sessions, correction)
    with sessions() as session:
        snapshot = load_snapshot(session, pid)
    impressions, clicks = counts(ids)
    if correction:
        e = fit_examination(impressions, clicks).probabilities
        assert e[0] == 1.0
        assert e[2] < 1.0  # slot 3 is clicked less for the same deals: examined less
        alpha, beta = corrected_posteriors(impressions, clicks, e, 1.0, 1.0)
    else:
        alpha = 1.0 + clicks.sum(axis=1)
        beta = 1.0 + impressions.sum(axis=1) - clicks.sum(axis=1)
    np.testing.assert_allclose(snapshot.arms.alpha, alpha)
    np.testing.assert_allclose(snapshot.arms.beta, beta)
    assert snapshot.arms.pulls.tolist() == impressions.sum(axis=1).tolist()
