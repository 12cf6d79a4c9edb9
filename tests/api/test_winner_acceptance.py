"""The winner rule fires through the HTTP API on SQLite and names the best deal.

Three deals at 2%, 4% and 8% true CTR, k = 1, each shown deal clicked with its true rate:
``/stats`` must name the 8% deal the winner. The issue's full run (20,000 ranks) is
``python -m bench.winner_acceptance``; here the same campaign runs 4,000 ranks (the rule decides
this case at a median of ~1,000 impressions in simulation, docs/simulation.md), seeded, so it is
reproducible and keeps CI short. The error rate over many seeds is ``make bench-rule``'s.
"""

from __future__ import annotations

import asyncio

import pytest

from hotdeals.app import create_app
from hotdeals.config import get_settings
from tests.support.winner_campaign import BEST, run_campaign

RANKS = 4_000


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_rule_names_the_eight_percent_deal_through_the_api(
    configured: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTDEALS_SEED", "12")
    get_settings.cache_clear()
    stats = asyncio.run(run_campaign(create_app(), RANKS))
    assert sum(d["impressions"] for d in stats["bandits"]) == RANKS
    assert stats["winner"] is not None, stats["decision"]
    assert stats["winner"]["bandit_name"] == BEST
    assert stats["winner"]["chosen"] is False
    assert stats["decision"]["state"] in ("winner", "no_meaningful_difference")
    assert stats["decision"]["missing"] == []
