"""Purchases over HTTP, on both backends: by click token (bounded by the deal's price) and by
transaction id (admin); once per order; the click implied; every bad report a 4xx naming what
is wrong, with nothing counted; each test ends with the counters matching the log.

Tokens are made outside the app with its own key on a moved clock, so nothing waits to expire.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hotdeals.app import create_app
from hotdeals.config import get_settings
from hotdeals.db.audit import find_mismatches
from hotdeals.db.engine import make_engine, make_session_factory
from hotdeals.db.models import Bandit
from hotdeals.db.service_tables import Purchase
from hotdeals.services.click_tokens import ClickTokens
from tests.factories import ADMIN, PRICE, post_project

KEY = "purchase-test-key-0123456789abcdef"
CLICK_TTL_S = 3_600
PURCHASE_TTL_S = 86_400


@pytest.fixture
def client(configured: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("HOTDEALS_SECRET_KEY", KEY)
    monkeypatch.setenv("HOTDEALS_CLICK_TOKEN_TTL_S", str(CLICK_TTL_S))
    monkeypatch.setenv("HOTDEALS_PURCHASE_TOKEN_TTL_S", str(PURCHASE_TTL_S))
    get_settings.cache_clear()
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client


def _shown(client: TestClient, **fields: Any) -> list[dict[str, Any]]:
    project = post_project(client, deals=2, **fields)
    answer = client.post(f"/api/projects/{project['project_id']}/rank", json={"visitor_id": "v"})
    assert answer.status_code == 200, answer.text
    deals: list[dict[str, Any]] = answer.json()["deals"]
    return deals


def _buy(client: TestClient, token: str, **fields: Any) -> httpx.Response:
    return client.post("/api/purchases", json={"token": token, **fields})


def _state(configured: str) -> tuple[list[tuple[int, int, int, Decimal]], int, list[object]]:
    """Each deal's (id, clicks, purchases, value), the purchases logged, and db-check's report."""
    engine = make_engine(configured)
    try:
        with make_session_factory(engine)() as session:
            deals = session.execute(
                select(
                    Bandit.bandit_id,
                    Bandit.number_of_success,
                    Bandit.purchases,
                    Bandit.purchase_value,
                ).order_by(Bandit.bandit_id)
            ).all()
            logged = session.scalar(select(func.count()).select_from(Purchase)) or 0
            return [tuple(d) for d in deals], logged, list(find_mismatches(session))  # type: ignore[misc]
    finally:
        engine.dispose()


def test_a_purchase_by_token_counts_once_and_implies_the_click(
    client: TestClient, configured: str
) -> None:
    deal = _shown(client)[0]
    first = _buy(client, deal["click_token"], value="1.99")
    assert first.status_code == 200, first.text
    assert first.json() == {
        "transaction_id": deal["transaction_id"],
        "bandit_id": deal["bandit_id"],
        "already_recorded": False,
        "click_implied": True,
        "purchases": 1,
        "purchase_value": "1.99",
    }
    again = _buy(client, deal["click_token"], value="1.99")
    assert again.status_code == 200
    assert (again.json()["already_recorded"], again.json()["purchases"]) == (True, 1)
    click = client.post("/api/clicks", json={"token": deal["click_token"]})
    assert click.json()["already_recorded"] is True  # the purchase counted the click
    deals, logged, mismatches = _state(configured)
    assert (deal["bandit_id"], 1, 1, Decimal("1.99")) in deals
    assert (logged, mismatches) == (1, [])


def test_distinct_orders_each_count_once(client: TestClient, configured: str) -> None:
    token = _shown(client)[0]["click_token"]
    answers = [
        _buy(client, token, value=value, quantity=quantity, order_id=order, currency="EUR")
        for value, quantity, order in ((1.99, 1, "A-1"), ("3.98", 2, "A-2"), ("1.00", 1, "A-1"))
    ]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["already_recorded"] for a in answers] == [False, False, True]
    assert [a.json()["click_implied"] for a in answers] == [True, False, False]
    assert answers[-1].json()["purchase_value"] == "5.97"
    deals, logged, mismatches = _state(configured)
    assert sum(d[2] for d in deals) == 2
    assert sum(d[1] for d in deals) == 1
    assert (logged, mismatches) == (2, [])


def test_the_admin_reports_by_id_with_any_value_even_without_a_price(
    client: TestClient, configured: str
) -> None:
    deal = _shown(client, price=None)[0]
    refused = _buy(client, deal["click_token"], value="2.00")
    assert refused.status_code == 400
    assert "no price" in refused.json()["detail"]
    url = f"/api/transactions/{deal['transaction_id']}/purchase"
    assert client.post(url, json={"value": "2.00"}).status_code == 401
    answer = client.post(url, json={"value": "250.00", "order_id": "B-9"}, headers=ADMIN)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["click_implied"], answer.json()["purchase_value"]) == (True, "250.00")
    _, logged, mismatches = _state(configured)
    assert (logged, mismatches) == (1, [])


@pytest.mark.parametrize(
    ("fields", "status", "named"),
    [
        ({"value": "2.00"}, 400, "more than the deal's price"),  # PRICE is 1.99
        ({"value": "3.99", "quantity": 2}, 400, "more than the deal's price"),
        ({"value": "1.99", "currency": "USD"}, 400, "currency"),
        ({"value": "0"}, 422, "value"),
        ({"value": "-1.99"}, 422, "value"),
        ({"value": "NaN"}, 422, "value"),
        ({"value": "1.999"}, 422, "value"),
        ({"value": "1.99", "quantity": 0}, 422, "quantity"),
        ({"value": "1.99", "quantity": "2"}, 422, "quantity"),
        ({"value": "1.99", "currency": "eur"}, 422, "currency"),
        ({"value": "1.99", "order_id": ""}, 422, "order_id"),
        ({"value": "1.99", "order_id": "a b"}, 422, "order_id"),
        ({"value": "1.99", "tip": 1}, 422, "tip"),
        ({}, 422, "value"),
    ],
)
def test_a_bad_report_names_what_is_wrong_and_counts_nothing(
    client: TestClient, configured: str, fields: dict[str, Any], status: int, named: str
) -> None:
    assert PRICE == "1.99"
    token = _shown(client)[0]["click_token"]
    answer = _buy(client, token, **fields)
    assert answer.status_code == status, answer.text
    assert named in answer.text
    deals, logged, mismatches = _state(configured)
    assert all((clicks, bought) == (0, 0) for _, clicks, bought, _ in deals)
    assert (logged, mismatches) == (0, [])


def test_a_token_reports_a_purchase_after_its_click_window_until_its_own(
    client: TestClient, configured: str
) -> None:
    deal = _shown(client)[0]
    claim = (deal["transaction_id"], int(deal["click_token"].split(".")[0].split("-")[1]))
    now = time.time()
    day_old = ClickTokens(KEY.encode(), ttl_s=60, clock=lambda: now - CLICK_TTL_S - 60).issue(
        *claim
    )
    assert client.post("/api/clicks", json={"token": day_old}).status_code == 410
    assert _buy(client, day_old, value="1.99").status_code == 200
    too_old = ClickTokens(KEY.encode(), ttl_s=60, clock=lambda: now - PURCHASE_TTL_S - 60).issue(
        *claim
    )
    expired = _buy(client, too_old, value="1.99", order_id="late")
    assert expired.status_code == 410
    assert "expired for a purchase" in expired.json()["detail"]
    assert _buy(client, "1-1.AAAA.BBBB", value="1.99").status_code == 400
    _, logged, mismatches = _state(configured)
    assert (logged, mismatches) == (1, [])


def test_an_unknown_impression_is_404(client: TestClient) -> None:
    _shown(client)
    answer = client.post("/api/transactions/999999/purchase", json={"value": "1"}, headers=ADMIN)
    assert answer.status_code == 404
    assert "999999" in answer.json()["detail"]


def test_stats_show_each_deals_purchases_conversion_and_revenue(client: TestClient) -> None:
    """The deal shown most is bought twice (1.99 and 1.50), the other never."""
    project = post_project(client, deals=2, slots=1)
    pid = project["project_id"]
    tokens: dict[int, list[str]] = {}
    for visitor in range(20):
        answer = client.post(f"/api/projects/{pid}/rank", json={"visitor_id": f"v-{visitor}"})
        deal = answer.json()["deals"][0]
        tokens.setdefault(deal["bandit_id"], []).append(deal["click_token"])
    bought, other = sorted(tokens, key=lambda b: -len(tokens[b]))
    for token, value in zip(tokens[bought], ("1.99", "1.50"), strict=False):
        assert _buy(client, token, value=value).status_code == 200
    stats = {
        d["bandit_id"]: d
        for d in client.get(f"/api/projects/{pid}/stats", headers=ADMIN).json()["bandits"]
    }
    mine, theirs = stats[bought], stats[other]
    assert (mine["purchases"], mine["purchase_value"], mine["clicks"]) == (2, 3.49, 2)
    assert (theirs["purchases"], theirs["purchase_value"]) == (0, 0.0)
    shown = mine["impressions"]
    figures = mine["purchase"]
    # Beta(1 + 2, 1 + shown - 2): the closed-form mean, inside its interval.
    assert figures["conversion"] == pytest.approx(3 / (shown + 2))
    assert figures["ci_low_conversion"] < figures["conversion"] < figures["ci_high_conversion"]
    low, mid, high = (figures[f"{p}revenue_per_impression"] for p in ("ci_low_", "", "ci_high_"))
    assert low < mid < high
    assert low < 3.49 / shown < high  # the plain estimate is a plausible value
    assert figures["revenue_per_click"] > mid  # a click is rarer than an impression
    assert theirs["purchase"]["revenue_per_impression"] < mid
    again = client.get(f"/api/projects/{pid}/stats", headers=ADMIN).json()["bandits"]
    assert [d["purchase"] for d in again] == [stats[b]["purchase"] for b in sorted(stats)]
