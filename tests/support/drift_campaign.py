"""A campaign whose best deal changes mid-run, through the HTTP API on an injected clock.

Two deals, k = 1; after ``swap_at`` ranks their true CTRs swap. The clock moves a fixed step per
rank (steady traffic), so a half-life in hours is a half-life in ranks. Requests go one after
the other over the ASGI interface with the server's generator seeded (``HOTDEALS_SEED``) and the
clicks drawn from a seeded generator: the run is reproducible. Returns, for each rank after the
swap, whether the new best deal was shown.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import numpy as np
from fastapi import FastAPI

from tests.factories import ADMIN, project_body

BEFORE = {"Apples": 0.30, "Pears": 0.10}
AFTER = {"Apples": 0.10, "Pears": 0.30}
NEW_BEST = "Pears"
VISITORS = 50


async def run_drift(
    app: FastAPI,
    advance: Callable[[timedelta], None],
    *,
    swap_at: int,
    after: int,
    step: timedelta,
    settings: dict[str, Any],
    click_seed: int = 7,
) -> tuple[list[bool], dict[str, Any]]:
    """Run ``swap_at + after`` ranks; return whether each rank after the swap showed the new
    best deal, and the final ``/stats`` body."""
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://hotdeals.test") as client,
    ):
        created = await client.post(
            "/api/projects", json=project_body(list(BEFORE), slots=1, **settings), headers=ADMIN
        )
        assert created.status_code == 201, created.text
        pid = created.json()["project_id"]
        clicks = np.random.default_rng(click_seed)
        shown_new_best: list[bool] = []
        for index in range(swap_at + after):
            rates = BEFORE if index < swap_at else AFTER
            answer = await client.post(
                f"/api/projects/{pid}/rank", json={"visitor_id": f"shopper-{index % VISITORS}"}
            )
            assert answer.status_code == 200, answer.text
            (deal,) = answer.json()["deals"]
            if index >= swap_at:
                shown_new_best.append(deal["bandit_name"] == NEW_BEST)
            if clicks.random() < rates[deal["bandit_name"]]:
                response = await client.post("/api/clicks", json={"token": deal["click_token"]})
                assert response.status_code == 200, response.text
            advance(step)
        stats: dict[str, Any] = (
            await client.get(f"/api/projects/{pid}/stats", headers=ADMIN)
        ).json()
        return shown_new_best, stats


def ranks_to_half(shown_new_best: list[bool], window: int = 50) -> int | None:
    """Ranks after the swap until the new best deal had half of the last ``window`` ranks."""
    for end in range(window, len(shown_new_best) + 1):
        if sum(shown_new_best[end - window : end]) * 2 >= window:
            return end
    return None
