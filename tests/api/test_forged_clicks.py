"""The forged-click attack replayed from one client: 400 rank-then-click pairs for one customer
(k = 1), clicking only when the worst of three deals is shown. With the per-customer rank limit
most pairs get 429 and the worst deal does not become the leader; with the limit lifted the
same script makes it the leader, so the test shows the limit is what stops it.

The campaign has an honest history first (1,000 impressions per deal at true click rates 0.02,
0.04 and 0.08) and ranks uniformly at random, the attacker's best case: the worst deal is shown
a third of the time. With 60 ranks allowed the worst deal can at most reach (20 + 60) / (1,000 +
60) < 0.08, whatever the random draws, so the outcome is certain, not likely. The window is an
hour so that a slow machine cannot see it reset (fixed-window counts; nothing waits).
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hotdeals.db.counters import Impression, log_impressions, record_click
from tests.factories import ADMIN, post_project, post_user
from tests.support.rate_limits import limited_client

TRUE_CTRS = (0.02, 0.04, 0.08)
HISTORY = 1_000  # honest impressions per deal
PAIRS = 400
HIGH = "1000000/second"


def honest_history(engine: Engine, project_id: int, bandit_ids: list[int], shopper: int) -> None:
    with Session(engine) as session, session.begin():
        for bandit_id, ctr in zip(bandit_ids, TRUE_CTRS, strict=True):
            shown = [Impression(shopper, project_id, bandit_id, 1)] * HISTORY
            ids = log_impressions(session, shown)
            for tid in ids[: round(ctr * HISTORY)]:
                record_click(session, tid)


@pytest.mark.parametrize(("per_customer", "attack_wins"), [("60/hour", False), (HIGH, True)])
def test_the_forged_click_attack_no_longer_makes_the_worst_deal_the_leader(
    configured: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    per_customer: str,
    attack_wins: bool,
) -> None:
    with limited_client(
        monkeypatch,
        "memory",
        rank_per_ip=HIGH,
        click_per_ip=HIGH,
        rank_per_customer=per_customer,
    ) as client:
        project = post_project(client, deals=3, policy="uniform")
        pid = project["project_id"]
        bandit_ids = [b["bandit_id"] for b in project["bandits"]]
        worst = bandit_ids[0]
        honest_history(engine, pid, bandit_ids, post_user(client, "honest@example.com"))
        attacker = post_user(client, "attacker@example.com")

        statuses: list[int] = []
        for _ in range(PAIRS):
            ranked = client.post(
                f"/api/projects/{pid}/rank", json={"customer_id": attacker, "k": 1}
            )
            statuses.append(ranked.status_code)
            if ranked.status_code == 200 and ranked.json()["deals"][0]["bandit_id"] == worst:
                tid = ranked.json()["deals"][0]["transaction_id"]
                assert client.post(f"/api/transactions/{tid}/click").status_code == 200

        stats = client.get(f"/api/projects/{pid}/stats", headers=ADMIN).json()["bandits"]
        row = {d["bandit_id"]: d for d in stats}
        leader = max(stats, key=lambda d: d["posterior_mean"])["bandit_id"]
        if attack_wins:
            assert statuses == [200] * PAIRS
            assert leader == worst
            assert row[worst]["prob_best"] > 0.5
        else:
            assert statuses[:60] == [200] * 60
            assert statuses[60:] == [429] * (PAIRS - 60)  # most pairs refused
            assert leader != worst
            assert row[worst]["prob_best"] < 0.5
            assert row[worst]["impressions"] <= HISTORY + 60
