"""The issue's acceptance run of the winner rule, through the HTTP API on SQLite.

Three deals at 2%, 4% and 8% true CTR, 20,000 ranks with k = 1, each shown deal clicked with
its true rate: ``/stats`` must name the 8% deal the winner. The server's generator is seeded
(``HOTDEALS_SEED``) and the clicks come from a seeded generator, so the run is reproducible;
the rule's error rate over many seeds is measured by ``make bench-rule`` (docs/simulation.md).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi import FastAPI

from hotdeals.app import create_app
from hotdeals.config import get_settings
from tests.factories import ADMIN, project_body

RATES = {"Two percent": 0.02, "Four percent": 0.04, "Eight percent": 0.08}
RANKS = 20_000


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_twenty_thousand_ranks_name_the_eight_percent_deal_the_winner(
    configured: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTDEALS_SEED", "12")
    get_settings.cache_clear()
    stats = asyncio.run(campaign(create_app()))

    assert sum(d["impressions"] for d in stats["bandits"]) == RANKS
    assert stats["winner"] is not None, stats["decision"]
    assert stats["winner"]["bandit_name"] == "Eight percent"
    assert stats["winner"]["chosen"] is False
    assert stats["decision"]["state"] in ("winner", "no_meaningful_difference")


async def campaign(app: FastAPI) -> dict[str, Any]:
    """The campaign's requests one after the other (so the seeded run is reproducible), over
    the ASGI interface in one event loop: the real app and HTTP handling, without a thread hop
    per request."""
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://hotdeals.test") as client,
    ):
        created = await client.post(
            "/api/projects", json=project_body(list(RATES), slots=1), headers=ADMIN
        )
        assert created.status_code == 201, created.text
        pid = created.json()["project_id"]
        clicks = np.random.default_rng(2012)
        visitors = [f"shopper-{i}" for i in range(50)]
        for step in range(RANKS):
            answer = await client.post(
                f"/api/projects/{pid}/rank", json={"visitor_id": visitors[step % len(visitors)]}
            )
            assert answer.status_code == 200, answer.text
            (deal,) = answer.json()["deals"]
            if clicks.random() < RATES[deal["bandit_name"]]:
                response = await client.post("/api/clicks", json={"token": deal["click_token"]})
                assert response.status_code == 200, response.text
        stats: dict[str, Any] = (
            await client.get(f"/api/projects/{pid}/stats", headers=ADMIN)
        ).json()
        return stats
