"""Campaign scripting (create-project, add-deal, end-project, with schedules and the winner
rule's settings), stats with its decision panel, and export, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from hotdeals.cli import app
from hotdeals.db.counters import Impression, log_impressions, record_click
from hotdeals.db.models import Bandit, Project, Transaction
from hotdeals.services.export import CSV_COLUMNS, export_parquet
from tests.factories import make_user

runner = CliRunner()


def one_line_error(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def create(*args: str) -> int:
    result = runner.invoke(app, ["create-project", *args])
    assert result.exit_code == 0, result.output
    return int(result.stdout.strip())


def log_traffic(
    sessions: sessionmaker[Session], project_id: int, clicks_per_arm: dict[int, float], views: int
) -> int:
    """``views`` impressions per deal, each clicked with the given rate; returns the total."""
    rng = np.random.default_rng(4)
    start = datetime(2026, 11, 20, tzinfo=UTC)
    with sessions.begin() as session:
        customer = make_user(session, "ida@example.com", "Ida").customer_id
        impressions = [
            Impression(customer, project_id, bandit, 1, start + timedelta(seconds=i))
            for i, bandit in enumerate(b for b in clicks_per_arm for _ in range(views))
        ]
        ids = log_impressions(session, impressions)
        for transaction_id, impression in zip(ids, impressions, strict=True):
            if rng.random() < clicks_per_arm[impression.bandit_id]:
                record_click(session, transaction_id, start + timedelta(days=1))
    return len(impressions)


def test_create_project_prints_only_the_new_id_and_stores_the_deals(
    configured: str, sessions: sessionmaker[Session]
) -> None:
    result = runner.invoke(
        app,
        [
            "create-project",
            "Hot Deals, week 48",
            "--deal",
            "Strawberries 2 for 1:3.49:🍓",
            "--deal",
            "Tomatoes -30%:1.99",
            "--deal",
            "Ginger::🫚",
            "--policy",
            "uniform",
            "--slots",
            "2",
            "--description",
            "fruit and veg",
            "--currency",
            "GBP",
        ],
    )
    assert result.exit_code == 0, result.output
    project_id = int(result.stdout.strip())  # the whole of stdout is the id, for scripts
    assert "with 3 deal(s), policy uniform, 2 slot(s)" in result.stderr
    with sessions() as session:
        project = session.get_one(Project, project_id)
        assert (project.project_name, project.policy, project.slots, project.status) == (
            "Hot Deals, week 48",
            "uniform",
            2,
            "running",
        )
        assert project.project_description == "fruit and veg"
        assert project.currency == "GBP"
        assert project.number_of_bandits == 3
        deals = [(b.bandit_name, b.price, b.emoji) for b in project.bandits]
    assert deals == [
        ("Strawberries 2 for 1", Decimal("3.49"), "🍓"),
        ("Tomatoes -30%", Decimal("1.99"), None),
        ("Ginger", None, "🫚"),
    ]


def test_add_deal_and_end_project_with_a_winner(
    configured: str, sessions: sessionmaker[Session]
) -> None:
    project_id = create("Week 49", "--deal", "Kiwis")
    added = runner.invoke(
        app,
        ["add-deal", str(project_id), "Figs -20%", "--price", "2.5", "--emoji", "🍇"],
    )
    assert added.exit_code == 0, added.output
    bandit_id = int(added.stdout.strip())
    with sessions() as session:
        figs = session.get_one(Bandit, bandit_id)
        assert (figs.project_id, figs.bandit_name, figs.price, figs.emoji) == (
            project_id,
            "Figs -20%",
            Decimal("2.50"),
            "🍇",
        )
        assert (figs.alpha, figs.beta, figs.n) == (1.0, 1.0, 0)
        assert session.get_one(Project, project_id).number_of_bandits == 2

    ended = runner.invoke(app, ["end-project", str(project_id), "--winner", str(bandit_id)])
    assert ended.exit_code == 0, ended.output
    assert f"project {project_id} ended; winner: Figs -20% (bandit {bandit_id})" in ended.stdout
    with sessions() as session:
        project = session.get_one(Project, project_id)
        assert (project.status, project.winner_bandit_id) == ("ended", bandit_id)
        assert project.ended_at is not None

    one_line_error(["add-deal", str(project_id), "Dates"], "has ended; deals cannot be added")


def test_end_project_without_a_winner(configured: str, sessions: sessionmaker[Session]) -> None:
    project_id = create("Week 50", "--deal", "Kiwis")
    result = runner.invoke(app, ["end-project", str(project_id)])
    assert result.exit_code == 0, result.output
    assert "no winner named" in result.stdout
    with sessions() as session:
        assert session.get_one(Project, project_id).status == "ended"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create-project", "W", "--deal", "Kiwis:abc"], "price: Input should be a valid decimal"),
        (
            ["create-project", "W", "--deal", "Kiwis:-1"],
            "price: Input should be greater than or equal to 0",
        ),
        (
            ["create-project", "W", "--deal", "Kiwis:1.999"],
            "price: Decimal input should have no more than 2 decimal places",
        ),
        (
            ["create-project", "W", "--deal", ":1.99"],
            "deal name: String should have at least 1 character",
        ),
        (
            ["create-project", "W", "--deal", "K:1:" + "🍓" * 17],
            "emoji: String should have at most 16 characters",
        ),
        (["create-project", "  "], "NAME: String should have at least 1 character"),
        (["create-project", "x" * 201], "NAME: String should have at most 200 characters"),
        (["create-project", "W", "--deal", "A", "--deal", "A"], "deal names must be unique"),
        (
            ["create-project", "W", "--policy", "greedy"],
            "--policy: Input should be 'thompson', 'ucb1', 'epsilon_greedy' or 'uniform'",
        ),
        (
            ["create-project", "W", "--slots", "0"],
            "--slots: Input should be greater than or equal to 1",
        ),
        (
            ["create-project", "W", "--epsilon", "1.5"],
            "--epsilon: Input should be less than or equal to 1",
        ),
        (
            ["create-project", "W", "--currency", "euro"],
            "--currency: String should have at most 3 characters",
        ),
        (
            ["create-project", "W", "--ends-at", "2030-12-07T00:00"],
            "--ends-at: Input should have timezone info",
        ),
        (
            ["create-project", "W", "--starts-at", "next week"],
            "--starts-at: 'next week' is not a date and time (ISO 8601 with a zone",
        ),
        (
            ["create-project", "W", "--ends-at", "2030"],  # not Unix seconds: 1970 is no end
            "--ends-at: '2030' is not a date and time",
        ),
        (
            [
                "create-project",
                "W",
                "--starts-at",
                "2030-12-08T00:00Z",
                "--ends-at",
                "2030-12-07T00:00Z",
            ],
            "--starts-at/--ends-at: the campaign's ends_at (2030-12-07T00:00:00+00:00) must be "
            "after starts_at (2030-12-08T00:00:00+00:00)",
        ),
        (
            ["create-project", "W", "--end-action", "pause"],
            "--end-action: Input should be 'stop' or 'rollout'",
        ),
        (
            ["create-project", "W", "--max-relative-loss", "1"],
            "--max-relative-loss: Input should be less than 1",
        ),
        (
            ["create-project", "W", "--min-duration-days", "-1"],
            "--min-duration-days: Input should be greater than or equal to 0",
        ),
        (
            ["create-project", "W", "--min-prob-best", "0.5"],
            "--min-prob-best: Input should be greater than 0.5",
        ),
        (
            ["create-project", "W", "--min-impressions", "-5"],
            "--min-impressions: Input should be greater than or equal to 0",
        ),
        (["add-deal", "1", "Kiwis", "--ends-at", "2030-12-07"], "--ends-at: Input should have"),
        (
            ["add-deal", "1", "Kiwis", "--starts-at", "2030-12-08T00:00Z", "--ends-at", "2030"],
            "--ends-at: '2030' is not a date and time",
        ),
        (
            [
                "add-deal",
                "1",
                "Kiwis",
                "--starts-at",
                "2030-12-08T00:00Z",
                "--ends-at",
                "2030-12-08T00:00Z",
            ],
            "--starts-at/--ends-at: deal 'Kiwis': ends_at (2030-12-08T00:00:00+00:00) must be "
            "after",
        ),
        (["add-deal", "999", "Kiwis"], "project 999 does not exist"),
        (["add-deal", "1", "Kiwis", "--price", "free"], "price: Input should be a valid decimal"),
        (["end-project", "999"], "project 999 does not exist"),
        (["stats", "999"], "project 999 does not exist"),
        (["export", "999", "--out", "x.csv"], "project 999 does not exist"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(configured: str, args: list[str], message: str) -> None:
    one_line_error(args, message)


def test_create_project_with_a_schedule_and_a_winner_rule(
    configured: str, sessions: sessionmaker[Session]
) -> None:
    project_id = create(
        "Week 49",
        "--deal",
        "Kiwis",
        "--starts-at",
        "2030-12-07T00:00:00+01:00",
        "--ends-at",
        "2030-12-13T23:59Z",
        "--end-action",
        "rollout",
        "--min-prob-best",
        "0.9",
        "--max-relative-loss",
        "0.005",
        "--min-impressions",
        "250",
        "--min-duration-days",
        "7",
        "--position-correction",
    )
    with sessions() as session:
        project = session.get_one(Project, project_id)
        assert project.starts_at == datetime(2030, 12, 6, 23, tzinfo=UTC)
        assert project.ends_at == datetime(2030, 12, 13, 23, 59, tzinfo=UTC)
        assert (project.end_action, project.min_prob_best, project.max_relative_loss) == (
            "rollout",
            0.9,
            0.005,
        )
        assert (project.min_impressions, project.min_duration_days) == (250, 7.0)
        assert project.position_correction
    plain = create("Week 50", "--no-position-correction")
    with sessions() as session:
        project = session.get_one(Project, plain)
        assert (project.starts_at, project.ends_at, project.end_action) == (None, None, "stop")
        assert not project.position_correction
    added = runner.invoke(
        app,
        [
            "add-deal",
            str(plain),
            "Figs",
            "--starts-at",
            "2030-12-07T00:00Z",
            "--ends-at",
            "2030-12-14T00:00Z",
        ],
    )
    assert added.exit_code == 0, added.output
    with sessions() as session:
        figs = session.get_one(Bandit, int(added.stdout.strip()))
        assert (figs.starts_at, figs.ends_at) == (
            datetime(2030, 12, 7, tzinfo=UTC),
            datetime(2030, 12, 14, tzinfo=UTC),
        )


def test_a_duplicate_deal_and_a_foreign_winner_are_refused(
    configured: str, sessions: sessionmaker[Session]
) -> None:
    first = create("Week 51", "--deal", "Kiwis")
    second = create("Week 52", "--deal", "Figs")
    one_line_error(["add-deal", str(first), "Kiwis"], "already has a deal named 'Kiwis'")
    with sessions() as session:
        figs = session.get_one(Project, second).bandits[0].bandit_id
    one_line_error(
        ["end-project", str(first), "--winner", str(figs)],
        f"bandit {figs} is not a deal of project {first}",
    )
    with sessions() as session:
        assert session.get_one(Project, first).status == "running"  # the refusal rolled back


def test_stats_shows_the_arm_table_and_the_winner(
    configured: str, sessions: sessionmaker[Session]
) -> None:
    project_id = create("Week 1", "--deal", "Kiwis", "--deal", "Figs", "--deal", "Dates [new]")
    with sessions() as session:
        kiwis, figs, dates = (b.bandit_id for b in session.get_one(Project, project_id).bandits)
    before = runner.invoke(app, ["stats", str(project_id)])
    assert before.exit_code == 0, before.output
    assert "no winner yet" in before.stdout
    assert "Dates [new]" in before.stdout  # names are text, never Rich markup
    assert "decision: No decision yet; leader" in before.stdout
    assert "rank now: running; runs always" in before.stdout
    assert "position-corrected" not in before.stdout  # nothing in slot 2 to correct

    log_traffic(sessions, project_id, {kiwis: 0.02, figs: 0.30, dates: 0.02}, views=400)
    result = runner.invoke(app, ["stats", str(project_id)])
    assert result.exit_code == 0, result.output
    assert f"project {project_id} 'Week 1': running, policy thompson, 3 slot(s)" in result.stdout
    figs_row = next(line for line in result.stdout.splitlines() if "Figs" in line)
    with sessions() as session:
        clicks = session.get_one(Bandit, figs).number_of_success
    assert f"{clicks / 400:.2%}" in figs_row
    assert "400" in figs_row
    assert f"winner: Figs (bandit {figs}), P(best) = 100.0% (by the winner rule)" in result.stdout
    assert "decision: Winner: 'Figs' is best with probability 1.00." in result.stdout
    assert "state:        Winner found" in result.stdout
    assert "met      P(best) of the leader: 1.00 (needed ≥ 0.95)" in result.stdout
    assert "met      Leader's impressions: 400 (needed ≥ 100)" in result.stdout
    assert "forecast:     None needed: the rule has named a winner." in result.stdout
    assert "clicks vs an even split (95%: " in result.stdout


def test_stats_shows_the_winner_the_analyst_chose_on_ending(
    configured: str, sessions: sessionmaker[Session]
) -> None:
    project_id = create("Week 2", "--deal", "Kiwis", "--deal", "Figs")
    with sessions() as session:
        kiwis, figs = (b.bandit_id for b in session.get_one(Project, project_id).bandits)
    log_traffic(sessions, project_id, {kiwis: 0.02, figs: 0.30}, views=40)
    assert "no winner yet" in runner.invoke(app, ["stats", str(project_id)]).stdout
    ended = runner.invoke(app, ["end-project", str(project_id), "--winner", str(kiwis)])
    assert ended.exit_code == 0, ended.output

    result = runner.invoke(app, ["stats", str(project_id)])
    assert result.exit_code == 0, result.output
    assert f"project {project_id} 'Week 2': ended" in result.stdout
    assert f"winner: Kiwis (bandit {kiwis}), P(best) = 0.0% (chosen by the analyst)" in (
        result.stdout
    )
    assert "no winner" not in result.stdout


def test_export_csv_and_parquet_hold_the_same_log(
    configured: str, sessions: sessionmaker[Session], engine: Engine, tmp_path: Path
) -> None:
    project_id = create("Week 2", "--deal", "Kiwis", "--deal", "Figs")
    other = create("Week 3", "--deal", "Dates")
    with sessions() as session:
        kiwis, figs = (b.bandit_id for b in session.get_one(Project, project_id).bandits)
        dates = session.get_one(Project, other).bandits[0].bandit_id
    total = log_traffic(sessions, project_id, {kiwis: 0.1, figs: 0.2}, views=60)
    with sessions.begin() as session:  # another project's traffic must not leak into the file
        customer = make_user(session, "ola@example.com", "Ola").customer_id
        log_impressions(session, [Impression(customer, other, dates, 1)])

    csv_path = tmp_path / "log.csv"
    result = runner.invoke(app, ["export", str(project_id), "--out", str(csv_path)])
    assert result.exit_code == 0, result.output
    assert f"wrote {total:,} transactions to {csv_path} (csv)" in result.stdout
    with csv_path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert len(rows) == total == 120
    assert {r["project_id"] for r in rows} == {str(project_id)}

    parquet_path = tmp_path / "log.out"
    result = runner.invoke(
        app, ["export", str(project_id), "--format", "parquet", "--out", str(parquet_path)]
    )
    assert result.exit_code == 0, result.output
    table = pq.read_table(parquet_path)
    assert table.column_names == list(CSV_COLUMNS)
    assert table.schema.field("clicked").type == pa.bool_()
    assert table.schema.field("timestamp").type == pa.timestamp("us", tz="UTC")
    assert table.column("transaction_id").to_pylist() == [int(r["transaction_id"]) for r in rows]
    assert table.column("bandit_name").to_pylist() == [r["bandit_name"] for r in rows]
    with sessions() as session:
        clicked = session.scalar(
            select(func.count()).where(Transaction.project_id == project_id, Transaction.clicked)
        )
    assert sum(table.column("clicked").to_pylist()) == clicked
    assert sum(r["clicked"] == "True" for r in rows) == clicked
    assert not list(tmp_path.glob("*.part"))


def test_parquet_is_written_in_bounded_batches(
    configured: str, sessions: sessionmaker[Session], engine: Engine, tmp_path: Path
) -> None:
    project_id = create("Week 4", "--deal", "Kiwis", "--deal", "Figs")
    with sessions() as session:
        arms = [b.bandit_id for b in session.get_one(Project, project_id).bandits]
    total = log_traffic(sessions, project_id, dict.fromkeys(arms, 0.5), views=25)
    path = tmp_path / "log.parquet"
    done: list[int] = []
    assert export_parquet(engine, project_id, path, done.append, batch_rows=7) == total == 50
    metadata = pq.ParquetFile(path).metadata
    assert metadata.num_rows == 50
    assert metadata.num_row_groups == 8  # 7 full batches of 7 and one of 1
    assert done[-1] == 50


def test_an_empty_project_exports_a_header_and_an_empty_table(
    configured: str, tmp_path: Path
) -> None:
    project_id = create("Week 5", "--deal", "Kiwis")
    for name in ("empty.csv", "empty.parquet"):
        result = runner.invoke(app, ["export", str(project_id), "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        assert "wrote 0 transactions" in result.stdout
    header = (tmp_path / "empty.csv").read_text(encoding="utf-8")
    assert header == ",".join(CSV_COLUMNS) + "\n"
    assert pq.read_table(tmp_path / "empty.parquet").num_rows == 0


def test_export_refuses_an_unknown_format_or_folder(configured: str, tmp_path: Path) -> None:
    project_id = create("Week 6", "--deal", "Kiwis")
    one_line_error(
        ["export", str(project_id), "--out", str(tmp_path / "log.xlsx")],
        "name a .csv or .parquet file, or give --format csv|parquet",
    )
    one_line_error(
        ["export", str(project_id), "--format", "xlsx", "--out", str(tmp_path / "log")],
        "--format 'xlsx': use csv or parquet",
    )
    one_line_error(
        ["export", str(project_id), "--out", str(tmp_path / "no" / "log.csv")],
        "does not exist",
    )


def test_stats_prints_the_decision_panel_and_the_corrected_ctrs(
    configured: str, sessions: sessionmaker[Session]
) -> None:
    project_id = create(
        "Week 3", "--deal", "Kiwis", "--deal", "Figs", "--slots", "2", "--min-impressions", "500"
    )
    with sessions() as session:
        kiwis, figs = (b.bandit_id for b in session.get_one(Project, project_id).bandits)
    start = datetime(2026, 11, 20, tzinfo=UTC)
    with sessions.begin() as session:  # 200 page views: each deal in each slot 100 times
        customer = make_user(session, "eve@example.com", "Eve").customer_id
        shown = [
            Impression(customer, project_id, bandit, slot, start + timedelta(seconds=view))
            for view in range(200)
            for bandit, slot in ((kiwis, 1 + view % 2), (figs, 2 - view % 2))
        ]
        ids = log_impressions(session, shown)
        for transaction_id, impression in zip(ids, shown, strict=True):
            rate = (0.2 if impression.bandit_id == figs else 0.1) / impression.position
            if (transaction_id * 7919) % 1000 < rate * 1000:
                record_click(session, transaction_id, start + timedelta(days=1))

    result = runner.invoke(app, ["stats", str(project_id)])
    assert result.exit_code == 0, result.output
    assert "position-corrected: the CTR had each deal always been in slot 1" in result.stdout
    assert "decision: No decision yet; leader 'Figs'." in result.stdout
    assert "missing  Leader's impressions: 200 (needed ≥ 500)" in result.stdout
    assert "forecast:     About " in result.stdout
    assert "simulated forward from the posteriors".lower() in result.stdout.lower()
    assert "slots:        slot 1 100%, slot 2 " in result.stdout
    assert "no winner yet" in result.stdout

    as_json = runner.invoke(app, ["stats", str(project_id), "--json"])
    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.stdout.strip().splitlines()[-1])
    assert (body["project_id"], body["status"], body["effective_status"]) == (
        project_id,
        "running",
        "running",
    )
    assert body["winner"] is None
    assert body["decision"]["state"] == "collecting"
    assert [c["name"] for c in body["decision"]["conditions"]] == [
        "prob_best",
        "relative_loss",
        "leader_impressions",
    ]
    assert body["decision"]["forecast"]["paths"] > 0
    assert body["decision"]["uplift"]["clicks"] == sum(d["clicks"] for d in body["bandits"])
    assert len(body["examination"]) == 2
    assert body["examination"][0] == 1.0
    corrected = {d["bandit_id"]: d["ctr_corrected"] for d in body["bandits"]}
    assert all(value is not None for value in corrected.values())
    for deal in body["bandits"]:  # one corrected CTR per row of the second table
        assert f"{deal['ctr_corrected']:.2%}" in result.stdout
