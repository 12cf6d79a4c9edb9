"""``hotdeals simulate``'s deal-week options: churn, drift, delay, priors, half-life, refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from hotdeals.cli import app

runner = CliRunner()

BASE = ["simulate", "--arms", "0.02,0.04,0.08", "--horizon", "2000", "--seeds", "3"]


def last_json(stdout: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return payload


def test_a_deal_week_prints_the_usual_json_and_the_world_it_simulated() -> None:
    args = [
        *BASE,
        "--policies",
        "thompson,uniform",
        "--retire-prob",
        "0.002",
        "--new-arm-prior",
        "4,4",
        "--drift",
        "1000:2:0.01",
        "--prior",
        "empirical",
        "--half-life",
        "500",
        "--delay",
        "10",
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    payload = last_json(result.stdout)
    assert set(payload) == {"policies", "deal_weeks"}  # no winner rule: the best deal changes
    assert set(payload["policies"]) == {"thompson", "uniform"}
    for figures in payload["policies"].values():
        assert set(figures) == {"mean_regret", "sd_regret", "best_arm_share"}
        assert figures["mean_regret"] > 0
    assert payload["deal_weeks"] == {
        "retire_prob": 0.002,
        "new_arm_prior": [4.0, 4.0],
        "drifts": [[1000, 2, 0.01]],
        "prior": "empirical",
        "half_life": 500.0,
        "delay": 10,
    }


def test_forgetting_alone_keeps_the_winner_rule_report() -> None:
    result = runner.invoke(app, [*BASE, "--policies", "thompson", "--half-life", "300", "--json"])
    assert result.exit_code == 0, result.output
    payload = last_json(result.stdout)
    assert set(payload) == {"policies", "winner_rule", "deal_weeks"}


def test_the_table_says_which_week_was_simulated() -> None:
    args = [*BASE, "--policies", "thompson", "--drift", "1000:2:0.01", "--half-life", "400"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Deal weeks: regret against the best deals alive" in result.stdout
    assert "arm 2 at 0.01 from step 1,000" in result.stdout
    assert "half-life 400 steps" in result.stdout
    assert "Winner rule" not in result.stdout


def test_delay_is_batch_by_another_name() -> None:
    common = [*BASE, "--policies", "thompson,ucb1", "--json", "--no-rule-report"]
    by_delay = last_json(runner.invoke(app, [*common, "--delay", "25"]).stdout)
    by_batch = last_json(runner.invoke(app, [*common, "--batch", "25"]).stdout)
    assert by_delay == by_batch


def test_a_drift_costs_plain_thompson_more_than_thompson_with_a_half_life() -> None:
    args = [
        "simulate",
        "--arms",
        "0.10,0.30",
        "--horizon",
        "5000",
        "--seeds",
        "10",
        "--policies",
        "thompson",
        "--drift",
        "2000:1:0.05",
        "--json",
    ]
    plain = last_json(runner.invoke(app, args).stdout)["policies"]["thompson"]
    forgetting = last_json(runner.invoke(app, [*args, "--half-life", "300"]).stdout)
    assert forgetting["policies"]["thompson"]["mean_regret"] < 0.7 * plain["mean_regret"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--retire-prob", "1.5", "--new-arm-prior", "4,4"], "--retire-prob must be in [0, 1]"),
        (["--retire-prob", "0.01"], "--retire-prob needs --new-arm-prior A,B"),
        (["--new-arm-prior", "4,4"], "--new-arm-prior only matters with --retire-prob > 0"),
        (["--retire-prob", "0.01", "--new-arm-prior", "4"], "--new-arm-prior: give two numbers"),
        (["--retire-prob", "0.01", "--new-arm-prior", "4,-1"], "--new-arm-prior: give two"),
        (["--drift", "100:1"], "--drift: '100:1' is not STEP:ARM:CTR"),
        (["--drift", "100:1:0.1:4"], "--drift: '100:1:0.1:4' is not STEP:ARM:CTR"),
        (["--drift", "100:b1:0.1"], "--drift: '100:b1:0.1' is not STEP:ARM:CTR"),
        (["--drift", "100:3:0.1"], "--drift: arm 3 does not exist (3 arms, from 0)"),
        (["--drift", "5000:1:0.1"], "--drift: step 5000 is not within the horizon 2,000"),
        (["--drift", "100:1:1.5"], "--drift: click rates must lie in [0, 1], got 1.5"),
        (["--prior", "informed"], "--prior must be campaign or empirical, got 'informed'"),
        (["--half-life", "0"], "--half-life must be > 0 (steps), got 0"),
        (["--half-life", "nan"], "--half-life must be > 0"),
        (["--delay", "0"], "--delay must be >= 1, got 0"),
        (["--delay", "10", "--batch", "5"], "give --delay or --batch, not both"),
        (
            ["--k", "2", "--half-life", "100", "--position-correction"],
            "--position-correction cannot be combined with",
        ),
    ],
)
def test_bad_options_exit_2_with_a_message_naming_the_option(args: list[str], message: str) -> None:
    result = runner.invoke(app, [*BASE, *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
