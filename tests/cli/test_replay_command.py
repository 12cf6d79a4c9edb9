"""``hotdeals replay`` on CSV logs (synthetic, the committed Open Bandit Dataset excerpt, and a
project's exports with and without the purchase columns) and on a uniform project's
transactions, walked in pieces with the figures of the whole log, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from hotdeals.bandit import InvalidArmsError, ThompsonSampling
from hotdeals.bandit.replay import ReplayWalk
from hotdeals.cli import app
from hotdeals.db.counters import Impression, log_impressions, record_click
from hotdeals.db.models import Transaction
from hotdeals.db.purchases import PurchaseEvent, record_purchase
from hotdeals.services import offline
from hotdeals.services.offline import project_log, read_log_csv, replay_log, replay_project
from tests.factories import make_project, make_user

runner = CliRunner()

OBD_EXCERPT = Path(__file__).parents[1] / "fixtures" / "obd_excerpt.csv"
# Arbitrary labels, not in rate order: the replay must not depend on how items are named.
RATES = {"plum": 0.05, "apple": 0.30, "pear": 0.10}
START = datetime(2026, 11, 1, tzinfo=UTC)


def last_json(stdout: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return payload


def uniform_log(path: Path, events: int, seed: int) -> tuple[int, int]:
    """A log of a uniform-random policy over RATES, written in shuffled row order.

    Returns the number of clicks and the clicks on the best item.
    """
    rng = np.random.default_rng(seed)
    labels = list(RATES)
    shown = rng.integers(0, len(labels), events)
    clicks = rng.random(events) < np.array([RATES[label] for label in labels])[shown]
    rows = [
        (labels[item], int(click), (START + timedelta(seconds=i)).isoformat())
        for i, (item, click) in enumerate(zip(shown, clicks, strict=True))
    ]
    order = rng.permutation(events)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["timestamp", "item_id", "click"])
        for i in order:
            item, click, moment = rows[i]
            writer.writerow([moment, item, click])
    best = labels.index("apple")
    return int(clicks.sum()), int(clicks[shown == best].sum())


def test_a_shuffled_log_is_read_back_in_time_order(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    with log.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["item_id", "click", "position", "timestamp"])
        writer.writerow([7, 1, 2, "2026-11-01T10:00:02+00:00"])
        writer.writerow([5, 0, 1, "2026-11-01T11:00:00+01:00"])  # 10:00:00 UTC: first
        writer.writerow([9, 0, 3, "2026-11-01T10:00:02+00:00"])  # tie: keeps its file order
        writer.writerow([8, 1, 1, "2026-11-01T10:00:01+00:00"])
    events = read_log_csv(log)
    assert events.item_ids.tolist() == [5, 8, 7, 9]
    assert events.clicks.tolist() == [0, 1, 1, 0]
    assert events.positions is not None
    assert events.positions.tolist() == [1, 1, 2, 3]


def test_replay_of_thompson_recovers_the_best_items_rate_on_a_synthetic_log(
    tmp_path: Path,
) -> None:
    log = tmp_path / "uniform.csv"
    clicks, _ = uniform_log(log, events=60_000, seed=11)
    result = runner.invoke(app, ["replay", str(log), "--policy", "thompson", "--json"])
    assert result.exit_code == 0, result.output
    figures = last_json(result.stdout)
    assert figures["total"] == 60_000
    assert figures["log_ctr"] == pytest.approx(clicks / 60_000)
    assert figures["log_ctr"] == pytest.approx(sum(RATES.values()) / 3, abs=0.01)
    # Thompson locks onto "apple" within a few dozen kept events, so its replayed rate is
    # apple's true rate, and the bootstrap interval must say so while being tight.
    assert figures["ci_low"] <= RATES["apple"] <= figures["ci_high"]
    assert figures["ci_high"] - figures["ci_low"] < 0.02
    assert figures["kept"] == pytest.approx(20_000, rel=0.05)
    assert figures["clicks"] == round(figures["ctr"] * figures["kept"])


def test_replay_of_the_uniform_policy_recovers_the_logs_own_rate(tmp_path: Path) -> None:
    log = tmp_path / "uniform.csv"
    uniform_log(log, events=30_000, seed=5)
    result = runner.invoke(app, ["replay", str(log), "--policy", "uniform", "--json"])
    figures = last_json(result.stdout)
    assert figures["ci_low"] <= sum(RATES.values()) / 3 <= figures["ci_high"]
    assert figures["ci_high"] < RATES["apple"]


def test_the_text_report_names_every_figure(tmp_path: Path) -> None:
    log = tmp_path / "uniform.csv"
    uniform_log(log, events=3_000, seed=2)
    result = runner.invoke(app, ["replay", str(log), "--policy", "ucb1", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert f"replay of ucb1 on {log}:" in result.stdout
    assert "replay CTR" in result.stdout
    assert "95% bootstrap CI" in result.stdout
    assert "of 3,000 (" in result.stdout
    assert "log CTR" in result.stdout


def test_the_open_bandit_dataset_excerpt_replays(tmp_path: Path) -> None:
    with OBD_EXCERPT.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    log_ctr = sum(int(r["click"]) for r in rows) / len(rows)
    for policy in ("thompson", "epsilon_greedy"):
        result = runner.invoke(app, ["replay", str(OBD_EXCERPT), "--policy", policy, "--json"])
        assert result.exit_code == 0, result.output
        figures = last_json(result.stdout)
        assert figures["total"] == len(rows) == 2_000
        assert figures["log_ctr"] == pytest.approx(log_ctr)
        # 80 items in 3 slots: about one logged event in 80 matches the policy's choice.
        assert 5 <= figures["kept"] <= 100
        assert 0.0 <= figures["ci_low"] <= figures["ctr"] <= figures["ci_high"] <= 1.0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("item,clicked\n1,0\n", "missing column(s) 'item_id', 'click'"),
        ("item_id,position\n1,1\n", "missing column(s) 'click'"),
        ("item_id,click\n", "the log has no events"),
        ("", "the file is empty"),
        ("item_id,click\n1,2\n2,0\n", "clicks must be 0 or 1"),
        ("item_id,click\n1,\n2,0\n", "column 'click' has 1 empty value(s)"),
        ("item_id,click\n1,yes\n2,no\n", "column 'click' must hold whole numbers"),
        ("item_id,click,position\n1,0,0\n", "positions are slots numbered from 1"),
        ("item_id,click,timestamp\n1,1,yesterday\n", "timestamp 'yesterday' is not a date"),
        ("item_id,click\n1,1\n2\n", "CSV parse error"),
    ],
)
def test_a_bad_log_is_one_line_and_exit_2(tmp_path: Path, content: str, message: str) -> None:
    log = tmp_path / "log.csv"
    log.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["replay", str(log)])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/no/such/log.csv"], "/no/such/log.csv: no such file"),
        ([], "give either a CSV log file or --from-db PROJECT_ID"),
        (["log.csv", "--from-db", "1"], "give either a CSV log file or --from-db PROJECT_ID"),
        ([str(OBD_EXCERPT), "--policy", "greedy"], "unknown policy 'greedy'"),
        ([str(OBD_EXCERPT), "--policy", "epsilon_greedy", "--epsilon", "-1"], "epsilon must"),
        ([str(OBD_EXCERPT), "--seed", "-1"], "--seed must be >= 0"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["replay", *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def seed_uniform_project(
    sessions: sessionmaker[Session], policy: str = "uniform", pages: int = 3_000
) -> tuple[int, list[list[object]]]:
    """A two-slot project whose log a uniform policy could have written, back-dated and
    inserted in shuffled time order. Returns its id and the same log as CSV rows."""
    rng = np.random.default_rng(8)
    rates = (0.04, 0.08, 0.25, 0.12)
    with sessions.begin() as session:
        customer = make_user(session, "uma@example.com", "Uma").customer_id
        project = make_project(
            session, deals=len(rates), project_name="Uniform week", policy=policy, slots=2
        )
        bandits = [b.bandit_id for b in project.bandits]
        impressions: list[Impression] = []
        clicked: list[bool] = []
        for page in rng.permutation(pages):
            moment = START + timedelta(minutes=int(page))
            for position, arm in enumerate(rng.permutation(len(rates))[:2], start=1):
                impressions.append(
                    Impression(customer, project.project_id, bandits[arm], position, moment)
                )
                clicked.append(bool(rng.random() < rates[arm]))
        ids = log_impressions(session, impressions)
        for transaction_id, click in zip(ids, clicked, strict=True):
            if click:
                record_click(session, transaction_id)
    rows: list[list[object]] = [
        [i.bandit_id, int(c), i.position, i.timestamp.isoformat() if i.timestamp else ""]
        for i, c in zip(impressions, clicked, strict=True)
    ]
    return project.project_id, rows


def test_from_db_replays_a_uniform_projects_log_in_time_order(
    configured: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    project_id, rows = seed_uniform_project(sessions)
    result = runner.invoke(app, ["replay", "--from-db", str(project_id), "--json"])
    assert result.exit_code == 0, result.output
    figures = last_json(result.stdout)
    assert figures["source"] == f"project {project_id}"
    assert figures["total"] == len(rows) == 6_000
    assert figures["log_ctr"] == pytest.approx(sum(int(r[1]) for r in rows) / len(rows))
    assert figures["kept"] > 300

    # The same log as a CSV (rows in insertion order, sorted by the reader) replays to the
    # very same figures: the database path loads the same events in the same order.
    log = tmp_path / "same.csv"
    with log.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["item_id", "click", "position", "timestamp"])
        writer.writerows(rows)
    from_csv = last_json(runner.invoke(app, ["replay", str(log), "--json"]).stdout)
    assert {k: v for k, v in from_csv.items() if k != "source"} == {
        k: v for k, v in figures.items() if k != "source"
    }


def test_from_db_refuses_a_project_whose_policy_learns(
    configured: str, sessions: sessionmaker[Session]
) -> None:
    project_id, _ = seed_uniform_project(sessions, policy="thompson", pages=10)
    result = runner.invoke(app, ["replay", "--from-db", str(project_id)])
    assert result.exit_code == 2
    assert f"project {project_id} uses policy 'thompson'" in result.stderr
    assert "uniform" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_from_db_errors_for_a_missing_or_empty_project(
    configured: str, sessions: sessionmaker[Session]
) -> None:
    missing = runner.invoke(app, ["replay", "--from-db", "999"])
    assert missing.exit_code == 2
    assert "project 999 does not exist" in missing.stderr
    with sessions.begin() as session:
        project = make_project(session, deals=["A"], project_name="Empty", policy="uniform")
        project_id = project.project_id
    empty = runner.invoke(app, ["replay", "--from-db", str(project_id)])
    assert empty.exit_code == 2
    assert f"project {project_id} has no transactions to replay" in empty.stderr


def test_an_export_old_or_new_replays_like_the_project(
    configured: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    project_id, _ = seed_uniform_project(sessions, pages=1_000)
    with sessions.begin() as session:  # purchases fill the export's newer columns
        first = session.scalars(
            select(Transaction.transaction_id)
            .where(Transaction.project_id == project_id)
            .order_by(Transaction.transaction_id)
            .limit(3)
        ).all()
        for order, transaction_id in enumerate(first):
            event = PurchaseEvent(Decimal("3.49"), 1, f"o-{order}")
            record_purchase(session, transaction_id, event, START + timedelta(days=5))
    from_db = runner.invoke(app, ["replay", "--from-db", str(project_id), "--json"])
    assert from_db.exit_code == 0, from_db.output
    expected = {k: v for k, v in last_json(from_db.stdout).items() if k != "source"}

    new = tmp_path / "new.csv"
    exported = runner.invoke(app, ["export", str(project_id), "--out", str(new)])
    assert exported.exit_code == 0, exported.output
    with new.open(newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    assert rows[0][-3:] == ["purchases", "purchase_value", "purchased_at"]
    assert sum(row[-2] == "3.49" for row in rows[1:]) == 3
    old = tmp_path / "old.csv"  # an export written before the purchase columns existed
    with old.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(row[:-3] for row in rows)
    assert rows[0][:-3][-2:] == ["clicked", "clicked_at"]

    for log in (new, old):
        result = runner.invoke(app, ["replay", str(log), "--json"])
        assert result.exit_code == 0, result.output
        figures = last_json(result.stdout)
        assert figures["source"] == str(log)
        assert {k: v for k, v in figures.items() if k != "source"} == expected
        assert figures["total"] == 2_000


def test_an_export_with_an_empty_click_names_the_exports_column(tmp_path: Path) -> None:
    log = tmp_path / "export.csv"
    log.write_text("transaction_id,bandit_id,clicked\n1,4,True\n2,5,\n", encoding="utf-8")
    result = runner.invoke(app, ["replay", str(log)])
    assert result.exit_code == 2
    assert "column 'clicked' has 1 empty value(s)" in result.stderr


@pytest.mark.parametrize("policy", ["thompson", "ucb1", "epsilon_greedy", "uniform"])
def test_a_project_replayed_in_small_pieces_gives_the_figures_of_the_whole_log(
    engine: Engine,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    policy: str,
) -> None:
    """Memory stays flat because the log is walked piece by piece (COPY blocks on PostgreSQL,
    fetches elsewhere); pieces far smaller than a window of the walk must not change a figure."""
    project_id, rows = seed_uniform_project(sessions, pages=1_500)
    log = tmp_path / "same.csv"
    with log.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["item_id", "click", "position", "timestamp"])
        writer.writerows(rows)
    whole = replay_log(read_log_csv(log), policy, seed=4)
    monkeypatch.setattr(offline, "_PIECE", 7)
    monkeypatch.setattr(offline, "_FETCH", 7)
    done: list[int] = []
    with project_log(engine, project_id) as events:
        assert len(events) == 3_000
        assert events.slots == 2
        assert events.items.tolist() == sorted({int(str(r[0])) for r in rows})
        pieces = replay_project(events, policy, seed=4, progress=done.append)
    assert pieces == whole
    assert done == sorted(done)
    assert done[-1] == 3_000
    assert len(done) >= 3_000 // 7


@pytest.mark.parametrize(
    ("arms", "slots", "clicks", "message"),
    [
        ([0, 1], [0], [0, 1], "every event needs its arm, its slot and its click"),
        ([0, 2], [0, 0], [0, 1], "arms are numbered from 0 to 1"),
        ([0, -1], [0, 0], [0, 1], "arms are numbered from 0 to 1"),
        ([0, 1], [0, -1], [0, 1], "positions are slots numbered from 1"),
        ([0, 1], [0, 0], [0, 2], "clicks must be 0 or 1"),
    ],
)
def test_a_walk_in_pieces_refuses_events_it_cannot_place(
    arms: list[int], slots: list[int], clicks: list[int], message: str
) -> None:
    """The arms are fixed before the first piece: a piece naming another is an error, never a
    silently misplaced event."""
    walk = ReplayWalk(ThompsonSampling(), 2, 1, np.random.default_rng(0))
    with pytest.raises(InvalidArmsError, match=message):
        walk.feed(arms, slots, clicks)
    assert walk.total == 0
