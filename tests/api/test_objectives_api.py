"""A campaign's objective through the HTTP API: set and changed, refused beside the settings
that read clicks alone, and followed by rank and by the winner rule (seeded server, clicks and
purchases drawn from a seeded generator; both backends)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from hotdeals.app import create_app
from hotdeals.config import get_settings
from tests.factories import ADMIN, post_project

# Apples: clicked 40%, never bought. Pears: clicked 10%, bought at every click for 5.00.
# Figs: clicked 20%, bought at every click for 1.00. Clicks: Apples; purchases: Figs
# (20% of impressions against 10%); revenue: Pears (0.50 per impression against 0.20).
DEALS = {"Apples": (0.40, 0.0, "1.00"), "Pears": (0.10, 1.0, "5.00"), "Figs": (0.20, 1.0, "1.00")}
RANKS = 600


@pytest.fixture
def client(configured: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("HOTDEALS_SEED", "3")
    monkeypatch.setenv("HOTDEALS_SNAPSHOT_TTL_MS", "0")
    get_settings.cache_clear()
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client


def _campaign(client: TestClient, **fields: Any) -> int:
    project = post_project(client, deals=list(DEALS), slots=1, price=None, **fields)
    pid: int = project["project_id"]
    return pid


def _run(client: TestClient, pid: int) -> Counter[str]:
    """Rank ``RANKS`` times; the shopper clicks and buys at the deal's rates. The last half's
    impressions per deal."""
    draws = np.random.default_rng(11)
    late: Counter[str] = Counter()
    for index in range(RANKS):
        answer = client.post(f"/api/projects/{pid}/rank", json={"visitor_id": f"v-{index % 40}"})
        assert answer.status_code == 200, answer.text
        (deal,) = answer.json()["deals"]
        if index >= RANKS // 2:
            late[deal["bandit_name"]] += 1
        click_rate, buy_rate, value = DEALS[deal["bandit_name"]]
        if draws.random() < click_rate:
            client.post("/api/clicks", json={"token": deal["click_token"]})
            if draws.random() < buy_rate:
                bought = client.post(
                    f"/api/transactions/{deal['transaction_id']}/purchase",
                    json={"value": value},
                    headers=ADMIN,
                )
                assert bought.status_code == 200, bought.text
    return late


@pytest.mark.parametrize(
    ("objective", "best"), [("click", "Apples"), ("purchase", "Figs"), ("revenue", "Pears")]
)
def test_rank_and_the_winner_rule_follow_the_campaigns_objective(
    client: TestClient, objective: str, best: str
) -> None:
    pid = _campaign(client, objective=objective)
    late = _run(client, pid)
    assert late.most_common(1)[0][0] == best
    assert late[best] > 0.75 * (RANKS // 2)  # seeds here: 263-292 of 300
    stats = client.get(f"/api/projects/{pid}/stats", headers=ADMIN).json()
    chances = {d["bandit_name"]: d["prob_best"] for d in stats["bandits"]}
    assert max(chances, key=lambda name: chances[name]) == best
    losses = [d["expected_loss"] for d in stats["bandits"]]
    assert (None in losses) == (objective == "revenue")  # infinite under the revenue model
    conditions = [c["name"] for c in stats["decision"]["conditions"]]
    assert ("relative_loss" in conditions) == (objective != "revenue")
    assert (stats["decision"]["forecast"] is None) or objective != "revenue"


def test_the_objective_is_stored_and_picks_its_defaults(client: TestClient) -> None:
    clicks = post_project(client, deals=2, slots=3)
    assert (clicks["objective"], clicks["position_correction"]) == ("click", True)
    revenue = post_project(client, deals=2, slots=3, objective="revenue")
    assert (revenue["objective"], revenue["position_correction"]) == ("revenue", False)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"objective": "purchase", "position_correction": True}, "position_correction"),
        ({"objective": "purchase", "half_life_hours": 24}, "half_life_hours"),
        ({"objective": "revenue", "new_deal_prior": "empirical"}, "new_deal_prior"),
        ({"objective": "revenue", "policy": "ucb1"}, "policy must be thompson"),
    ],
)
def test_settings_that_read_clicks_alone_are_refused_with_another_objective(
    client: TestClient, fields: dict[str, Any], named: str
) -> None:
    answer = client.post(
        "/api/projects",
        json={"project_name": "P", "bandits": [{"bandit_name": "A"}], **fields},
        headers=ADMIN,
    )
    assert answer.status_code == 400, answer.text
    assert named in answer.json()["detail"]
    assert client.get("/api/projects", headers=ADMIN).json()["total"] == 0


def test_a_running_campaign_changes_its_objective_with_the_settings_it_needs(
    client: TestClient,
) -> None:
    pid = post_project(client, deals=2, slots=3)["project_id"]
    url = f"/api/projects/{pid}"
    refused = client.patch(url, json={"objective": "revenue"}, headers=ADMIN)
    assert refused.status_code == 400
    assert "position_correction must be false" in refused.json()["detail"]
    changed = client.patch(
        url, json={"objective": "revenue", "position_correction": False}, headers=ADMIN
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["objective"] == "revenue"
    back = client.patch(url, json={"half_life_hours": 12}, headers=ADMIN)
    assert back.status_code == 400
    assert client.patch(url, json={"objective": "bananas"}, headers=ADMIN).status_code == 422
