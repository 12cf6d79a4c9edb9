"""Forgetting and new deals' priors from the shell: create-project's ``--half-life`` and
``--new-deal-prior``, and the recent figures ``stats`` prints, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from hotdeals.cli import app
from hotdeals.db.counters import Impression, log_impressions, record_click
from hotdeals.db.models import Bandit, Project
from hotdeals.web.learning import FITTED, beta_text
from tests.factories import make_user

runner = CliRunner()


def create(*args: str) -> int:
    result = runner.invoke(app, ["create-project", *args])
    assert result.exit_code == 0, result.output
    return int(result.stdout.strip())


def shown_now(
    sessions: sessionmaker[Session], project_id: int, views: int, clicked: dict[str, int]
) -> None:
    """``views`` impressions of every deal, logged now; the first ``clicked[name]`` of a deal's
    are clicked."""
    with sessions.begin() as session:
        customer = make_user(session, "ida@example.com", "Ida").customer_id
        deals = session.get_one(Project, project_id).bandits
        impressions = [
            Impression(customer, project_id, d.bandit_id, 1) for d in deals for _ in range(views)
        ]
        ids = log_impressions(session, impressions)
        names = {d.bandit_id: d.bandit_name for d in deals}
        done = dict.fromkeys(names.values(), 0)
        for transaction_id, impression in zip(ids, impressions, strict=True):
            name = names[impression.bandit_id]
            if done[name] < clicked.get(name, 0):
                record_click(session, transaction_id)
                done[name] += 1


def stats_json(project_id: int) -> dict[str, Any]:
    result = runner.invoke(app, ["stats", str(project_id), "--json"])
    assert result.exit_code == 0, result.output
    body: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return body


def test_create_project_with_a_half_life_and_stats_prints_the_recent_figures(
    configured: str, sessions: sessionmaker[Session]
) -> None:
    result = runner.invoke(
        app,
        ["create-project", "Week 49", "--deal", "Figs", "--deal", "Kiwis", "--half-life", "72"],
    )
    assert result.exit_code == 0, result.output
    project_id = int(result.stdout.strip())
    assert "half-life 72 h (3 days)" in result.stderr
    with sessions() as session:
        project = session.get_one(Project, project_id)
        assert (project.half_life_hours, project.new_deal_prior) == (72.0, "campaign")
    shown_now(sessions, project_id, 40, {"Figs": 8, "Kiwis": 2})

    printed = runner.invoke(app, ["stats", str(project_id)])
    assert printed.exit_code == 0, printed.output
    out = printed.stdout
    assert "recent (half-life 72 h): what rank samples from" in out
    assert "forgetting: half-life 72 h (3 days); new deals start from the campaign's prior" in out
    table = out.split("recent (half-life 72 h)")[1].split("rank now:")[0]
    lines = {line.split()[0]: line for line in table.splitlines() if line[:6].strip().isdigit()}
    for deal in stats_json(project_id)["bandits"]:  # one row per deal, as the API has it
        assert deal["recent_impressions"] == pytest.approx(40, rel=1e-3)
        low, high = deal["ci_low_recent"], deal["ci_high_recent"]
        line = lines[str(deal["bandit_id"])]
        for cell in (
            f"{deal['recent_impressions']:,.1f}",
            f"{deal['recent_clicks']:,.1f}",
            f"{deal['recent_ctr']:.2%}",
            f"{low:.1%}-{high:.1%}",
        ):
            assert cell in line, (cell, line)


def test_stats_without_a_half_life_has_no_recent_table(
    configured: str, sessions: sessionmaker[Session]
) -> None:
    project_id = create("Week 50", "--deal", "Figs", "--deal", "Kiwis")
    shown_now(sessions, project_id, 10, {"Figs": 1})
    printed = runner.invoke(app, ["stats", str(project_id)])
    assert printed.exit_code == 0, printed.output
    assert "recent (half-life" not in printed.stdout
    assert "forgetting: off; new deals start from the campaign's prior Beta(1, 1)" in printed.stdout
    assert all(deal["recent_ctr"] is None for deal in stats_json(project_id)["bandits"])


def test_a_deal_added_under_an_empirical_prior_shows_where_it_started(
    configured: str, sessions: sessionmaker[Session]
) -> None:
    project_id = create(
        "Week 51",
        "--deal",
        "Figs",
        "--deal",
        "Kiwis",
        "--deal",
        "Plums",
        "--new-deal-prior",
        "empirical",
    )
    shown_now(sessions, project_id, 50, {"Figs": 5, "Kiwis": 2, "Plums": 1})
    added = runner.invoke(app, ["add-deal", str(project_id), "Dates"])
    assert added.exit_code == 0, added.output
    with sessions() as session:
        dates = session.get_one(Bandit, int(added.stdout.strip()))
        prior = (dates.prior_alpha, dates.prior_beta)
    assert prior != (1.0, 1.0)
    printed = runner.invoke(app, ["stats", str(project_id)])
    assert printed.exit_code == 0, printed.output
    assert "new deals start from a prior fitted to the other deals" in printed.stdout
    note = f"Dates (bandit {dates.bandit_id}) starts from {beta_text(*prior)}: {FITTED}"
    assert [line.strip() for line in printed.stdout.splitlines() if "starts from" in line] == [note]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--half-life", "0"], "--half-life: Input should be greater than 0"),
        (["--half-life", "-3"], "--half-life: Input should be greater than 0"),
        (["--half-life", "9000"], "--half-life: Input should be less than or equal to 8784"),
        (
            ["--new-deal-prior", "fitted"],
            "--new-deal-prior: Input should be 'campaign' or 'empirical'",
        ),
    ],
)
def test_a_bad_half_life_or_prior_is_one_line_and_nothing_is_stored(
    configured: str, sessions: sessionmaker[Session], args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["create-project", "W", "--deal", "Figs", *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Project)) == 0
