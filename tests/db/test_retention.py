"""Retention on PostgreSQL: an old partition leaves archived, the accounting unchanged
(archived + retained = counters, db-check clean), its rows exported when asked; a partition
still weighed by a forgetting campaign stays. Each test on a database of its own."""

from __future__ import annotations

import csv
import gzip
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from hotdeals.cli import app
from hotdeals.config import Settings, get_settings
from hotdeals.db.audit import find_mismatches, repair_counters
from hotdeals.db.counters import Impression, log_impressions, record_click
from hotdeals.db.engine import make_engine, make_session_factory
from hotdeals.db.migrate import upgrade_to_head
from hotdeals.db.models import Bandit, Project, Transaction
from hotdeals.db.partitions import SEQUENCE, ensure_partitions, list_partitions
from hotdeals.db.purchases import PurchaseEvent, record_purchase
from hotdeals.db.service_tables import ArchivedLog, BanditPosition, DealHour, Purchase
from hotdeals.http.state import AppState
from hotdeals.http.upkeep import Upkeep
from hotdeals.services.retention import retain
from tests.factories import make_project, make_user

pytestmark = pytest.mark.parametrize("unmigrated_url", ["postgresql"], indirect=True)

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
OLD = NOW - timedelta(days=100)


@pytest.fixture
def own(unmigrated_url: str) -> Iterator[Engine]:
    engine = make_engine(unmigrated_url)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


def _history(sessions: sessionmaker[Session]) -> tuple[int, list[int]]:
    """Old impressions (clicked, bought) in the first range, then the sequence past it and new
    impressions in the next: the first range is closed."""
    with sessions.begin() as session:
        user = make_user(session, f"{uuid.uuid4().hex}@example.com", "r")
        project = make_project(session, deals=2)
        arms = [b.bandit_id for b in project.bandits]
        shown = [
            Impression(user.customer_id, project.project_id, arms[i % 2], 1 + i % 3)
            for i in range(12)
        ]
        old = log_impressions(session, shown, OLD)
        record_click(session, old[0], OLD + timedelta(minutes=5))
        record_purchase(session, old[1], PurchaseEvent(Decimal("3.50"), 1, "A-1"), OLD)
        record_purchase(session, old[1], PurchaseEvent(Decimal("1.25"), 1, "A-2"), OLD)
        high = list_partitions(session.connection())[1].high
        assert high is not None
        session.execute(text(f"SELECT setval('{SEQUENCE}', :at)"), {"at": high - 1})
        ensure_partitions(session.connection())
        new = log_impressions(session, shown[:4], NOW - timedelta(hours=1))
        record_purchase(session, new[0], PurchaseEvent(Decimal("2.00")), NOW)
    return project.project_id, [*old, *new]


def _state(session: Session) -> tuple[object, ...]:
    deals = session.execute(
        select(
            Bandit.n,
            Bandit.number_of_success,
            Bandit.purchases,
            Bandit.purchase_value,
            Bandit.log_value_sum,
        ).order_by(Bandit.bandit_id)
    ).all()
    hours = session.execute(
        select(
            DealHour.bandit_id,
            DealHour.hour,
            DealHour.impressions,
            DealHour.clicks,
            DealHour.purchases,
            DealHour.purchase_value,
        ).order_by(DealHour.bandit_id, DealHour.hour)
    ).all()
    slots = session.execute(
        select(
            BanditPosition.bandit_id,
            BanditPosition.position,
            BanditPosition.impressions,
            BanditPosition.clicks,
        ).order_by(BanditPosition.bandit_id, BanditPosition.position)
    ).all()
    return tuple(map(tuple, deals)), tuple(map(tuple, hours)), tuple(map(tuple, slots))


def test_an_old_partition_leaves_archived_and_the_accounting_is_unchanged(
    own: Engine, tmp_path: Path
) -> None:
    sessions = make_session_factory(own)
    _, ids = _history(sessions)
    with sessions() as session:
        before = _state(session)
        first = list_partitions(session.connection())[1]
    done = retain(own, timedelta(days=90), NOW, export_to=tmp_path)
    dropped = [r for r in done if r.dropped]
    assert [r.candidate.partition.table for r in dropped] == [first.table]
    assert dropped[0].candidate.rows == 12
    with gzip.open(tmp_path / f"{first.table.split('.')[-1]}.csv.gz", "rt") as exported:
        rows = list(csv.DictReader(exported))
    assert [int(r["transaction_id"]) for r in rows] == ids[:12]
    with sessions() as session:
        assert _state(session) == before  # counters, rollups and slots: as they were
        assert session.scalar(select(func.count()).select_from(Transaction)) == 4
        assert session.scalar(select(func.count()).select_from(Purchase)) == 1  # the new one
        archived = session.execute(
            select(
                func.sum(ArchivedLog.impressions),
                func.sum(ArchivedLog.clicks),
                func.sum(ArchivedLog.purchases),
                func.sum(ArchivedLog.purchase_value),
            )
        ).one()
        assert tuple(archived) == (12, 2, 2, Decimal("4.75"))  # a purchase implies its click
        assert find_mismatches(session) == []
    with sessions.begin() as session:
        assert repair_counters(session) == 0
    assert all(not r.dropped for r in retain(own, timedelta(days=90), NOW))  # nothing left to do


def test_a_partition_a_forgetting_campaign_still_weighs_is_kept(own: Engine) -> None:
    sessions = make_session_factory(own)
    project_id, _ = _history(sessions)
    with sessions.begin() as session:
        session.execute(
            update(Project).where(Project.project_id == project_id).values(half_life_hours=168.0)
        )
    done = retain(own, timedelta(days=90), NOW)
    assert [r.dropped for r in done] == [False, False]  # the empty first range, the old one
    assert "half-life of 168 h" in done[1].candidate.reason


def test_the_cli_says_what_would_go_and_changes_nothing(
    own: Engine, unmigrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = make_session_factory(own)
    _history(sessions)
    monkeypatch.setenv("DATABASE_URL", unmigrated_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["db-retain", "--older-than-days", "30", "--dry-run"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "would drop log_partitions.transactions_000000000001: 12 rows" in result.output
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Transaction)) == 16


def test_servers_retire_old_partitions_themselves_when_a_retention_is_set(
    own: Engine, unmigrated_url: str, tmp_path: Path
) -> None:
    """``HOTDEALS_RETAIN_DAYS``: a server's upkeep round does what ``db-retain`` does."""
    sessions = make_session_factory(own)
    _history(sessions)
    with sessions() as session:
        first = list_partitions(session.connection())[1]
    settings = Settings(
        database_url=unmigrated_url,
        hotdeals_retain_days=90,
        hotdeals_retain_export_dir=str(tmp_path),
    )
    state = AppState.from_settings(settings, clock=lambda: NOW)
    try:
        Upkeep(state)._retain()
    finally:
        state.engine.dispose()
    assert (tmp_path / f"{first.table.split('.')[-1]}.csv.gz").exists()
    with sessions() as session:
        assert first not in list_partitions(session.connection())
        assert session.scalar(select(func.count()).select_from(Transaction)) == 4
        assert find_mismatches(session) == []


def test_two_servers_retiring_together_take_each_partition_once(own: Engine) -> None:
    sessions = make_session_factory(own)
    _history(sessions)
    start = threading.Barrier(2)

    def one_server() -> list[str]:
        start.wait(timeout=30)
        done = retain(own, timedelta(days=90), NOW)
        return [r.candidate.partition.table for r in done if r.dropped]

    with ThreadPoolExecutor(2) as pool:
        dropped = [
            table for tables in pool.map(lambda _: one_server(), range(2)) for table in tables
        ]
    assert len(dropped) == 1  # one of them archived it, the other found it gone
    with sessions() as session:
        archived = session.scalar(select(func.sum(ArchivedLog.impressions)))
        assert archived == 12  # archived once, not twice
        assert find_mismatches(session) == []
