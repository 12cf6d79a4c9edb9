"""The purchase fields in ``hotdeals export`` (CSV and Parquet, exact values and timestamps)
and in the ``hotdeals stats`` table, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from hotdeals.cli import app
from hotdeals.db.counters import Impression, log_impressions
from hotdeals.db.purchases import PurchaseEvent, record_purchase
from hotdeals.services.export import CSV_COLUMNS
from tests.factories import make_project, make_user

runner = CliRunner()

START = datetime(2026, 11, 20, 9, 30, 0, 123456, tzinfo=UTC)
FIRST = START + timedelta(hours=1, microseconds=1)
SECOND = START + timedelta(days=2, microseconds=654321)
# The columns every export had before purchases, in their old places.
OLD_COLUMNS = (
    "transaction_id",
    "timestamp",
    "customer_id",
    "project_id",
    "bandit_id",
    "bandit_name",
    "position",
    "clicked",
    "clicked_at",
)


def seed(sessions: sessionmaker[Session], *, purchased: bool = True) -> tuple[int, list[int]]:
    """Two impressions of a two-deal campaign; the first bought by two orders (3.49 and 10.01,
    the second's 5.00 reported twice, counted once) unless ``purchased`` is false."""
    with sessions.begin() as session:
        customer = make_user(session, "pia@example.com", "Pia").customer_id
        project = make_project(session, deals=["Kiwis", "Figs"], project_name="Week 48")
        kiwis, figs = (b.bandit_id for b in project.bandits)
        shown = [
            Impression(customer, project.project_id, kiwis, 1, START),
            Impression(customer, project.project_id, figs, 2, START),
        ]
        ids = log_impressions(session, shown)
        project_id = project.project_id
    if purchased:
        with sessions.begin() as session:
            record_purchase(session, ids[0], PurchaseEvent(Decimal("3.49"), 1, "o-1"), FIRST)
        for _ in range(2):  # a repeated report of one order changes nothing
            with sessions.begin() as session:
                event = PurchaseEvent(Decimal("10.01"), 2, "o-2")
                record_purchase(session, ids[0], event, SECOND)
    return project_id, ids


def export(project_id: int, path: Path) -> None:
    result = runner.invoke(app, ["export", str(project_id), "--out", str(path)])
    assert result.exit_code == 0, result.output
    assert f"wrote 2 transactions to {path}" in result.stdout


def test_an_export_carries_each_impressions_purchases_exactly(
    configured: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    project_id, (bought, unbought) = seed(sessions)
    assert CSV_COLUMNS[: len(OLD_COLUMNS)] == OLD_COLUMNS  # new columns only at the end
    assert CSV_COLUMNS[len(OLD_COLUMNS) :] == ("purchases", "purchase_value", "purchased_at")

    export(project_id, tmp_path / "log.csv")
    with (tmp_path / "log.csv").open(newline="", encoding="utf-8") as file:
        header, *rows = list(csv.reader(file))
    assert header == list(CSV_COLUMNS)
    assert [(r[0], r[-3], r[-2], r[-1]) for r in rows] == [
        (str(bought), "2", "13.50", SECOND.isoformat()),
        (str(unbought), "0", "0.00", ""),
    ]
    assert (rows[0][7], rows[0][8]) == ("True", FIRST.isoformat())  # a purchase implies a click
    assert (rows[1][7], rows[1][8]) == ("False", "")
    assert datetime.fromisoformat(rows[0][-1]) == SECOND  # to the microsecond, in UTC

    export(project_id, tmp_path / "log.parquet")
    table = pq.read_table(tmp_path / "log.parquet")
    assert table.column_names == list(CSV_COLUMNS)
    assert table.schema.field("purchases").type == pa.int64()
    assert table.schema.field("purchase_value").type == pa.decimal128(14, 2)
    assert table.schema.field("purchased_at").type == pa.timestamp("us", tz="UTC")
    assert table.column("purchases").to_pylist() == [2, 0]
    values = table.column("purchase_value").to_pylist()
    assert values == [Decimal("13.50"), Decimal("0.00")]
    assert [str(v) for v in values] == [r[-2] for r in rows]  # CSV and Parquet agree
    assert table.column("purchased_at").to_pylist() == [SECOND, None]
    assert table.column("clicked_at").to_pylist() == [FIRST, None]


def test_an_export_without_purchases_has_zeros_and_no_dates(
    configured: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    project_id, _ = seed(sessions, purchased=False)
    export(project_id, tmp_path / "log.csv")
    with (tmp_path / "log.csv").open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [(r["purchases"], r["purchase_value"], r["purchased_at"]) for r in rows] == [
        ("0", "0.00", ""),
        ("0", "0.00", ""),
    ]
    export(project_id, tmp_path / "log.parquet")
    table = pq.read_table(tmp_path / "log.parquet")
    assert table.column("purchase_value").to_pylist() == [Decimal("0.00")] * 2
    assert table.column("purchased_at").null_count == 2


def stats_json(project_id: int) -> dict[str, Any]:
    result = runner.invoke(app, ["stats", str(project_id), "--json"])
    assert result.exit_code == 0, result.output
    body: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return body


@pytest.mark.parametrize("purchased", [False, True])
def test_the_stats_table_shows_purchases_once_a_deal_has_one(
    configured: str,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    purchased: bool,
) -> None:
    monkeypatch.setattr("hotdeals.cli.tables.PIPE_WIDTH", 100)  # an analyst's narrow terminal
    project_id, _ = seed(sessions, purchased=purchased)
    result = runner.invoke(app, ["stats", str(project_id)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    title = "purchases, values in EUR: conversion, revenue per impression (posterior median)"
    if not purchased:
        assert title not in result.stdout
        assert "rev./impr." not in result.stdout
        return
    assert title in result.stdout
    header = next(line for line in lines if "rev./impr." in line)
    assert header.split() == [
        "id",
        "deal",
        "purchases",
        "value",
        "conv.",
        "95%",
        "interval",
        "rev./impr.",
        "95%",
        "interval",
    ]
    table = lines[lines.index(header) - 2 : lines.index(header) + 4]
    assert table[0].strip() == title
    assert all(len(line) <= 100 for line in table)
    assert "…" not in "".join(table)  # no figure cut short
    deals = {d["bandit_name"]: d for d in stats_json(project_id)["bandits"]}
    for name, bought, value in (("Kiwis", "2", "13.50"), ("Figs", "0", "0.00")):
        row = next(line for line in table if name in line).split()
        figures = deals[name]["purchase"]
        assert row == [
            str(deals[name]["bandit_id"]),
            name,
            bought,
            value,
            f"{figures['conversion']:.2%}",
            f"{figures['ci_low_conversion']:.1%}-{figures['ci_high_conversion']:.1%}",
            f"{figures['revenue_per_impression']:,.4f}",
            f"{figures['ci_low_revenue_per_impression']:,.4f}-"
            f"{figures['ci_high_revenue_per_impression']:,.4f}",
        ]
