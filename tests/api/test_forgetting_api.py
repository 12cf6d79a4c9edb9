"""Forgetting and per-deal priors over HTTP: the settings, their bad values, the recent view, a
deal added with an empirical-Bayes prior, and db-check keeping each deal's own prior. Both
backends."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hotdeals.db.audit import find_mismatches
from hotdeals.db.counters import Impression, log_impressions, record_click
from hotdeals.db.engine import make_engine, make_session_factory
from hotdeals.db.models import Bandit, User
from tests.factories import ADMIN, post_project


def stats(client: TestClient, project_id: int) -> dict[str, Any]:
    response = client.get(f"/api/projects/{project_id}/stats", headers=ADMIN)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_campaign_is_created_and_patched_with_a_half_life(client: TestClient) -> None:
    project = post_project(client, deals=2, half_life_hours=72, new_deal_prior="empirical")
    assert (project["half_life_hours"], project["new_deal_prior"]) == (72.0, "empirical")
    assert all(d["recent_ctr"] is not None for d in stats(client, project["project_id"])["bandits"])
    off = client.patch(
        f"/api/projects/{project['project_id']}", json={"half_life_hours": None}, headers=ADMIN
    )
    assert off.status_code == 200, off.text
    assert off.json()["half_life_hours"] is None
    assert all(d["recent_ctr"] is None for d in stats(client, project["project_id"])["bandits"])
    plain = post_project(client, deals=1)
    assert (plain["half_life_hours"], plain["new_deal_prior"]) == (None, "campaign")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("half_life_hours", 0),
        ("half_life_hours", -3),
        ("half_life_hours", "72"),
        ("half_life_hours", 10**9),
        ("new_deal_prior", "psychic"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(
    client: TestClient, field: str, value: object
) -> None:
    body = {"project_name": "p", "bandits": [{"bandit_name": "A"}], field: value}
    created = client.post("/api/projects", json=body, headers=ADMIN)
    assert 400 <= created.status_code < 500
    assert field in created.text
    project = post_project(client, deals=1)
    patched = client.patch(
        f"/api/projects/{project['project_id']}", json={field: value}, headers=ADMIN
    )
    assert 400 <= patched.status_code < 500
    assert field in patched.text
    unchanged = client.get(f"/api/projects/{project['project_id']}", headers=ADMIN).json()
    assert unchanged[field] == project[field]


def _history(url: str, project_id: int, rates: list[float]) -> None:
    """400 impressions per deal with ``rates`` of them clicked, through the storage calls."""
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        customer = User(email=f"h{project_id}@example.com", name="H")
        session.add(customer)
        session.flush()
        deals = session.scalars(
            select(Bandit.bandit_id)
            .where(Bandit.project_id == project_id)
            .order_by(Bandit.bandit_id)
        ).all()
        for bandit_id, rate in zip(deals, rates, strict=True):
            ids = log_impressions(
                session, [Impression(customer.customer_id, project_id, bandit_id, 1)] * 400
            )
            for transaction_id in ids[: int(rate * 400)]:
                record_click(session, transaction_id)
    engine.dispose()


def test_a_deal_added_later_starts_from_the_prior_its_campaign_asks_for(
    client: TestClient, configured: str
) -> None:
    informed = post_project(client, deals=3, new_deal_prior="empirical")
    plain = post_project(client, deals=3, prior_alpha=1, prior_beta=1)
    for project in (informed, plain):
        _history(configured, project["project_id"], [0.02, 0.04, 0.06])
    added = {
        name: client.post(
            f"/api/projects/{project['project_id']}/bandits",
            json={"bandit_name": "Newcomer"},
            headers=ADMIN,
        ).json()
        for name, project in (("informed", informed), ("plain", plain))
    }
    assert (added["plain"]["prior_alpha"], added["plain"]["prior_beta"]) == (1.0, 1.0)
    fitted = added["informed"]
    mean = fitted["prior_alpha"] / (fitted["prior_alpha"] + fitted["prior_beta"])
    assert 0.02 < mean < 0.06  # near the others' CTRs, not Beta(1, 1)'s 50%
    assert (fitted["alpha"], fitted["beta"]) == (fitted["prior_alpha"], fitted["prior_beta"])
    engine = make_engine(configured)
    with make_session_factory(engine)() as session:
        assert find_mismatches(session) == []  # db-check keeps each deal's own prior
    engine.dispose()
