"""The winner rule's acceptance campaign through the HTTP API: 2/4/8% deals, k = 1.

Shared by the CI test (``tests/api/test_winner_acceptance.py``, a shorter run) and the full
20,000-rank command (``python -m bench.winner_acceptance``). Requests go one after the other, so
with the server's generator seeded (``HOTDEALS_SEED``) and the clicks drawn from a seeded
generator the run is reproducible; over the ASGI interface in one event loop they exercise the
real app and its HTTP handling without a thread hop per request.
"""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
from fastapi import FastAPI

from tests.factories import ADMIN, project_body

RATES = {"Two percent": 0.02, "Four percent": 0.04, "Eight percent": 0.08}
BEST = "Eight percent"
VISITORS = 50


async def run_campaign(app: FastAPI, ranks: int, click_seed: int = 2012) -> dict[str, Any]:
    """Create the campaign, rank ``ranks`` times (clicking each shown deal with its true rate)
    and return the ``/stats`` body."""
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
        clicks = np.random.default_rng(click_seed)
        for step in range(ranks):
            visitor = f"shopper-{step % VISITORS}"
            answer = await client.post(f"/api/projects/{pid}/rank", json={"visitor_id": visitor})
            assert answer.status_code == 200, answer.text
            (deal,) = answer.json()["deals"]
            if clicks.random() < RATES[deal["bandit_name"]]:
                response = await client.post("/api/clicks", json={"token": deal["click_token"]})
                assert response.status_code == 200, response.text
        stats: dict[str, Any] = (
            await client.get(f"/api/projects/{pid}/stats", headers=ADMIN)
        ).json()
        return stats
