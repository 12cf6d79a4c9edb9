"""Stats, time series and the CSV export, computed from data whose answer is known.

The data comes the way a shop's page makes it: ranks by visitor id, clicks by click token.
"""

from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from hotdeals.db.audit import repair_counters
from hotdeals.db.engine import make_session_factory
from hotdeals.db.models import Transaction
from hotdeals.services.series import time_series
from tests.factories import ADMIN, post_project


def rank(client: TestClient, pid: int, visitor: str, **body: object) -> list[dict[str, Any]]:
    """The deals a visitor's page was shown (the rank answered 200)."""
    answer = client.post(f"/api/projects/{pid}/rank", json={"visitor_id": visitor, **body})
    assert answer.status_code == 200, answer.text
    deals: list[dict[str, Any]] = answer.json()["deals"]
    return deals


def click(client: TestClient, deal: dict[str, Any]) -> None:
    """The page's click on a shown deal, counted for the first time."""
    answer = client.post("/api/clicks", json={"token": deal["click_token"]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["already_recorded"] is False


def rank_and_click(
    client: TestClient, pid: int, visitor: str, plan: dict[int, tuple[int, int]]
) -> None:
    """Show each deal (by index in the project) n times, k=1, and click the first c of them."""
    bandits = client.get(f"/api/projects/{pid}/bandits", headers=ADMIN).json()
    for index, (n, c) in plan.items():
        for other in bandits:
            if other is not bandits[index]:
                client.patch(
                    f"/api/bandits/{other['bandit_id']}", json={"active": False}, headers=ADMIN
                )
        client.patch(
            f"/api/bandits/{bandits[index]['bandit_id']}", json={"active": True}, headers=ADMIN
        )
        for i in range(n):
            deal = rank(client, pid, visitor, k=1)[0]
            assert deal["bandit_id"] == bandits[index]["bandit_id"]
            if i < c:
                click(client, deal)
    for other in bandits:
        client.patch(f"/api/bandits/{other['bandit_id']}", json={"active": True}, headers=ADMIN)


def test_stats_report_ctr_intervals_prob_best_and_the_winner(client: TestClient) -> None:
    project = post_project(client, deals=2, min_impressions=20)
    pid = project["project_id"]
    rank_and_click(client, pid, "v-stats", {0: (40, 2), 1: (40, 30)})
    stats = client.get(f"/api/projects/{pid}/stats", headers=ADMIN).json()
    weak, strong = stats["bandits"]
    assert (weak["impressions"], weak["clicks"], weak["ctr"]) == (40, 2, 0.05)
    assert (strong["impressions"], strong["clicks"], strong["ctr"]) == (40, 30, 0.75)
    assert strong["posterior_mean"] == (1 + 30) / (2 + 40)
    for arm in stats["bandits"]:
        assert arm["ci_low"] < arm["posterior_mean"] < arm["ci_high"]
    assert strong["prob_best"] > 0.99
    assert abs(weak["prob_best"] + strong["prob_best"] - 1) < 1e-9
    assert weak["expected_loss"] > strong["expected_loss"] >= 0
    assert stats["winner"]["bandit_id"] == strong["bandit_id"]
    assert stats["winner"]["chosen"] is False
    assert abs(weak["share_last_24h"] - 0.5) < 1e-9


def test_no_winner_before_every_active_deal_has_enough_impressions(client: TestClient) -> None:
    pid = post_project(client, deals=2, min_impressions=100)["project_id"]
    rank_and_click(client, pid, "v-stats", {0: (40, 2), 1: (40, 30)})
    assert client.get(f"/api/projects/{pid}/stats", headers=ADMIN).json()["winner"] is None


def test_an_ended_campaign_reports_the_winner_the_analyst_chose(client: TestClient) -> None:
    pid = post_project(client, deals=2, min_impressions=100)["project_id"]
    rank_and_click(client, pid, "v-stats", {0: (40, 2), 1: (40, 30)})
    # The rule has no winner yet (too few impressions); the analyst ends with the weaker deal.
    weak = client.get(f"/api/projects/{pid}/stats", headers=ADMIN).json()["bandits"][0]
    ended = client.patch(
        f"/api/projects/{pid}",
        json={"status": "ended", "winner_bandit_id": weak["bandit_id"]},
        headers=ADMIN,
    )
    assert ended.status_code == 200, ended.text
    stats = client.get(f"/api/projects/{pid}/stats", headers=ADMIN).json()
    assert stats["winner"] == {
        "bandit_id": weak["bandit_id"],
        "bandit_name": weak["bandit_name"],
        "prob_best": stats["bandits"][0]["prob_best"],
        "chosen": True,
    }
    assert stats["winner"]["prob_best"] < 0.01


def test_a_chosen_winner_since_deactivated_gets_its_prob_best_against_the_active_deals(
    client: TestClient,
) -> None:
    pid = post_project(client, deals=2, min_impressions=20)["project_id"]
    rank_and_click(client, pid, "v-stats", {0: (40, 30), 1: (40, 2)})
    strong = client.get(f"/api/projects/{pid}/bandits", headers=ADMIN).json()[0]
    client.patch(f"/api/bandits/{strong['bandit_id']}", json={"active": False}, headers=ADMIN)
    client.patch(
        f"/api/projects/{pid}",
        json={"status": "ended", "winner_bandit_id": strong["bandit_id"]},
        headers=ADMIN,
    )
    stats = client.get(f"/api/projects/{pid}/stats", headers=ADMIN).json()
    assert [d["prob_best"] for d in stats["bandits"]] == [None, 1.0]
    assert stats["winner"]["bandit_id"] == strong["bandit_id"]
    assert stats["winner"]["chosen"] is True
    assert stats["winner"]["prob_best"] > 0.99


def test_a_deactivated_deal_has_no_prob_best(client: TestClient) -> None:
    project = post_project(client, deals=3)
    off = project["bandits"][2]["bandit_id"]
    client.patch(f"/api/bandits/{off}", json={"active": False}, headers=ADMIN)
    stats = client.get(f"/api/projects/{project['project_id']}/stats", headers=ADMIN).json()
    assert [a["prob_best"] is None for a in stats["bandits"]] == [False, False, True]
    assert abs(sum(a["prob_best"] or 0 for a in stats["bandits"]) - 1) < 1e-9


def test_time_series_buckets_by_hour_and_day(client: TestClient, engine: Engine) -> None:
    pid = post_project(client, deals=1)["project_id"]
    shown = [rank(client, pid, "v-series")[0] for _ in range(3)]
    click(client, shown[0])
    yesterday = datetime(2026, 11, 29, 13, 45, tzinfo=UTC)
    shown_at(engine, [shown[2]], yesterday)
    hourly = client.get(f"/api/projects/{pid}/timeseries?bucket=hour", headers=ADMIN).json()
    first = hourly["points"][0]
    assert first["bucket_start"] == "2026-11-29T13:00:00Z"
    assert (first["impressions"], first["clicks"]) == (1, 0)
    assert sum(p["impressions"] for p in hourly["points"]) == 3
    assert sum(p["clicks"] for p in hourly["points"]) == 1
    daily = client.get(f"/api/projects/{pid}/timeseries?bucket=day", headers=ADMIN).json()
    assert daily["points"][0]["bucket_start"] == "2026-11-29T00:00:00Z"
    starts = [datetime.fromisoformat(p["bucket_start"]) for p in daily["points"]]
    assert all(b - a >= timedelta(days=1) for a, b in itertools.pairwise(starts))
    assert (
        client.get(f"/api/projects/{pid}/timeseries?bucket=week", headers=ADMIN).status_code == 422
    )


def test_time_series_of_chosen_deals(client: TestClient) -> None:
    """``bandit_id`` repeated: a campaign of many deals charts a few without megabytes."""
    pid = post_project(client, deals=3)["project_id"]
    ids = sorted(deal["bandit_id"] for deal in rank(client, pid, "v-chosen", k=3))
    url = f"/api/projects/{pid}/timeseries"
    some = client.get(url, params={"bandit_id": ids[:2]}, headers=ADMIN)
    assert some.status_code == 200, some.text
    assert sorted({p["bandit_id"] for p in some.json()["points"]}) == ids[:2]
    every = client.get(url, headers=ADMIN).json()
    assert sorted({p["bandit_id"] for p in every["points"]}) == ids
    other = post_project(client, deals=1)["project_id"]
    (foreign,) = [
        d["bandit_id"] for d in client.get(f"/api/projects/{other}/bandits", headers=ADMIN).json()
    ]
    refused = client.get(url, params={"bandit_id": [ids[0], foreign]}, headers=ADMIN)
    assert refused.status_code == 404
    assert refused.json()["detail"] == f"deal {foreign} is not a deal of project {pid}"
    for bad in ({"bandit_id": "0"}, {"bandit_id": "x"}, {"bandit_id": list(range(1, 102))}):
        answer = client.get(url, params=bad, headers=ADMIN)
        assert answer.status_code == 422, bad
        assert answer.json()["detail"][0]["loc"][:2] == ["query", "bandit_id"]


def buy(client: TestClient, deal: dict[str, Any], value: str, order_id: str) -> None:
    """The shop's backend reports a purchase on an impression (admin, by transaction id)."""
    answer = client.post(
        f"/api/transactions/{deal['transaction_id']}/purchase",
        json={"value": value, "order_id": order_id},
        headers=ADMIN,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["already_recorded"] is False


def shown_at(engine: Engine, deals: list[dict[str, Any]], moment: datetime) -> None:
    """Move a page's impressions to ``moment``, as if the page had been shown then: history
    rewritten in SQL, then its rollups rebuilt from the log as ``db-check --repair`` does."""
    ids = [deal["transaction_id"] for deal in deals]
    with make_session_factory(engine).begin() as session:
        session.execute(
            update(Transaction).where(Transaction.transaction_id.in_(ids)).values(timestamp=moment)
        )
        repair_counters(session)


def test_time_series_carry_purchases_in_the_bucket_the_deal_was_shown(
    client: TestClient, engine: Engine
) -> None:
    project = post_project(client, deals=2)
    pid = project["project_id"]
    fig, kiwi = (deal["bandit_id"] for deal in project["bandits"])
    pages = [
        {deal["bandit_id"]: deal for deal in rank(client, pid, "v-revenue", k=2)} for _ in range(3)
    ]
    sunday, monday = (
        datetime(2026, 11, 29, 13, 45, tzinfo=UTC),
        datetime(2026, 11, 30, 8, tzinfo=UTC),
    )
    shown_at(engine, list(pages[0].values()), sunday)
    shown_at(engine, list(pages[1].values()), monday + timedelta(minutes=5))
    shown_at(engine, list(pages[2].values()), monday + timedelta(minutes=50))
    # Reported now, a day or more after the impressions: each counts in its impression's hour.
    # 0.10 + 0.20 is not 0.30 in binary floating point; the series' sums are exact.
    buy(client, pages[0][fig], "0.10", "A-1")
    buy(client, pages[0][fig], "0.20", "A-2")
    buy(client, pages[1][fig], "19.99", "A-3")
    buy(client, pages[2][fig], "0.01", "A-4")
    buy(client, pages[2][kiwi], "1234.56", "A-5")

    def points(bucket: str) -> list[tuple[str, int, int, int, int, str]]:
        answer = client.get(f"/api/projects/{pid}/timeseries?bucket={bucket}", headers=ADMIN)
        assert answer.status_code == 200, answer.text
        return [
            (
                p["bucket_start"],
                p["bandit_id"],
                p["impressions"],
                p["clicks"],
                p["purchases"],
                p["purchase_value"],
            )
            for p in answer.json()["points"]
        ]

    # A purchase implies its impression's click; two orders on one impression are two purchases.
    assert points("hour") == [
        ("2026-11-29T13:00:00Z", fig, 1, 1, 2, "0.30"),
        ("2026-11-29T13:00:00Z", kiwi, 1, 0, 0, "0.00"),
        ("2026-11-30T08:00:00Z", fig, 2, 2, 2, "20.00"),
        ("2026-11-30T08:00:00Z", kiwi, 2, 1, 1, "1234.56"),
    ]
    assert points("day") == [
        ("2026-11-29T00:00:00Z", fig, 1, 1, 2, "0.30"),
        ("2026-11-29T00:00:00Z", kiwi, 1, 0, 0, "0.00"),
        ("2026-11-30T00:00:00Z", fig, 2, 2, 2, "20.00"),
        ("2026-11-30T00:00:00Z", kiwi, 2, 1, 1, "1234.56"),
    ]
    with make_session_factory(engine)() as session:  # the service's own figures are Decimals
        values = [(p.bandit_id, p.purchase_value) for p in time_series(session, pid, "day")]
    assert values == [
        (fig, Decimal("0.30")),
        (kiwi, Decimal("0.00")),
        (fig, Decimal("20.00")),
        (kiwi, Decimal("1234.56")),
    ]
    assert all(type(value) is Decimal for _, value in values)


def test_the_time_series_fields_are_documented(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    point = schemas["SeriesPointOut"]["properties"]
    assert {"purchases", "purchase_value"} <= point.keys()
    assert "shown" in point["purchases"]["description"]
    assert "currency" in point["purchase_value"]["description"]
    example = schemas["TimeSeriesOut"]["examples"][0]["points"][0]
    assert set(example) == set(point)


def test_csv_export_streams_every_impression(client: TestClient) -> None:
    pid = post_project(client, deals=3)["project_id"]
    deals = rank(client, pid, "v-export")
    click(client, deals[1])
    response = client.get(f"/api/projects/{pid}/transactions.csv", headers=ADMIN)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(r["transaction_id"]) for r in rows] == [d["transaction_id"] for d in deals]
    assert [r["clicked"] for r in rows] == ["False", "True", "False"]
    assert rows[1]["clicked_at"] != ""
    assert rows[0]["clicked_at"] == ""
    assert datetime.fromisoformat(rows[0]["timestamp"]).tzinfo is not None
    assert "email" not in rows[0]


def test_export_needs_the_admin_token(client: TestClient) -> None:
    pid = post_project(client)["project_id"]
    assert client.get(f"/api/projects/{pid}/transactions.csv").status_code == 401
