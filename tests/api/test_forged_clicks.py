"""The forged-click attacks, replayed from one client: clicks need a token from a rank, so
blind clicks are refused, and a script that ranks to get tokens is capped by the rate limits.

The campaign has an honest history first (1,000 impressions per deal at true click rates 0.02,
0.04 and 0.08) and ranks uniformly at random, the attacker's best case: the worst deal is shown
a third of the time.

- Blind clicks (ids the attacker never received): by id without the admin token 401, then 429
  once the failed-authentication limit is spent; by a made-up token, or one signed with another
  key, 400; ranking in a real customer's name 401. Nothing is counted.
- The replay: 400 rank-then-click pairs (k = 1), clicking by token only when the worst deal is
  shown, by one visitor (the per-customer rank limit) or by a new visitor id each time (the
  new-visitors-per-address limit). With 60 ranks allowed the worst deal can at most reach
  (20 + 60) / (1,000 + 60) < 0.08, whatever the random draws, so the outcome is certain, not
  likely; with the limits lifted the same script makes it the leader, so the limits are what
  stop it. Windows are an hour so that a slow machine cannot see one reset (nothing waits).
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hotdeals.db.audit import find_mismatches
from hotdeals.db.counters import Impression, log_impressions, record_click
from hotdeals.services.click_tokens import ClickTokens
from tests.factories import ADMIN, post_project, post_user
from tests.support.rate_limits import limited_client

TRUE_CTRS = (0.02, 0.04, 0.08)
HISTORY = 1_000  # honest impressions per deal
PAIRS = 400
HIGH = "1000000/second"


def honest_history(engine: Engine, project_id: int, bandit_ids: list[int], shopper: int) -> None:
    """1,000 impressions per deal, the worst deal's first; the first ``ctr`` of each clicked."""
    with Session(engine) as session, session.begin():
        for bandit_id, ctr in zip(bandit_ids, TRUE_CTRS, strict=True):
            shown = [Impression(shopper, project_id, bandit_id, 1)] * HISTORY
            ids = log_impressions(session, shown)
            for tid in ids[: round(ctr * HISTORY)]:
                record_click(session, tid)


def clicks_by_deal(client: TestClient, project_id: int) -> dict[int, int]:
    stats = client.get(f"/api/projects/{project_id}/stats", headers=ADMIN).json()
    return {d["bandit_id"]: d["clicks"] for d in stats["bandits"]}


def test_blind_clicks_on_ids_never_received_are_refused_and_count_nothing(
    configured: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with limited_client(monkeypatch, "memory", admin_failures_per_ip="100/hour") as client:
        project = post_project(client, deals=3, policy="uniform")
        pid = project["project_id"]
        bandit_ids = [b["bandit_id"] for b in project["bandits"]]
        honest = post_user(client, "honest@example.com")
        honest_history(engine, pid, bandit_ids, honest)
        before = clicks_by_deal(client, pid)
        # Ranking in a real customer's name, to get tokens for them, needs the admin token.
        as_honest = client.post(f"/api/projects/{pid}/rank", json={"customer_id": honest})
        assert as_honest.status_code == 401
        # The worst deal's unclicked impressions are ids 21..1000: enumerate them.
        targets = range(round(TRUE_CTRS[0] * HISTORY) + 1, HISTORY + 1)
        statuses = [client.post(f"/api/transactions/{tid}/click").status_code for tid in targets]
        assert statuses[:99] == [401] * 99  # 100 failed authentications with the rank's
        assert statuses[99:] == [429] * (len(targets) - 99)  # then the failures' limit
        # Tokens made up from what a token looks like, or signed with a key that is not ours.
        elsewhere = ClickTokens(b"another deployment's key", ttl_s=3600)
        for tid in targets[:50]:
            for token in (
                f"{tid}-{honest}",
                f"{tid}-{honest}.aw560A.forged",
                elsewhere.issue(tid, honest),
            ):
                refused = client.post("/api/clicks", json={"token": token})
                assert refused.status_code == 400, refused.text
                assert refused.json()["detail"].startswith("token:")
        assert clicks_by_deal(client, pid) == before
    with Session(engine) as session:
        assert find_mismatches(session) == []


@pytest.mark.parametrize(
    ("limits", "rotate", "attack_wins"),
    [
        ({"rank_per_customer": "60/hour"}, False, False),
        ({"visitor_per_ip": "60/hour"}, True, False),
        ({}, False, True),
        ({}, True, True),
    ],
    ids=["one-visitor-limited", "new-visitors-limited", "one-visitor-unlimited", "new-unlimited"],
)
def test_the_rank_then_click_replay_no_longer_makes_the_worst_deal_the_leader(
    configured: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    limits: dict[str, str],
    rotate: bool,
    attack_wins: bool,
) -> None:
    with limited_client(
        monkeypatch,
        "memory",
        **{
            "rank_per_ip": HIGH,
            "click_per_ip": HIGH,
            "rank_per_customer": HIGH,
            "visitor_per_ip": HIGH,
            **limits,
        },
    ) as client:
        project = post_project(client, deals=3, policy="uniform")
        pid = project["project_id"]
        bandit_ids = [b["bandit_id"] for b in project["bandits"]]
        worst = bandit_ids[0]
        honest_history(engine, pid, bandit_ids, post_user(client, "honest@example.com"))

        statuses: list[int] = []
        for pair in range(PAIRS):
            visitor = f"attacker-{pair}" if rotate else "attacker"
            ranked = client.post(f"/api/projects/{pid}/rank", json={"visitor_id": visitor, "k": 1})
            statuses.append(ranked.status_code)
            if ranked.status_code == 200 and ranked.json()["deals"][0]["bandit_id"] == worst:
                token = ranked.json()["deals"][0]["click_token"]
                clicked = client.post("/api/clicks", json={"token": token})
                assert clicked.status_code == 200, clicked.text

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
    with Session(engine) as session:
        assert find_mismatches(session) == []
