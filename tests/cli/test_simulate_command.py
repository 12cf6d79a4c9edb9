"""``hotdeals simulate``: the table, the ``--json`` line, the plots and one-line errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hotdeals.cli import app

runner = CliRunner()

SMALL = ["--arms", "0.02,0.04,0.30", "--horizon", "3000", "--seeds", "3"]


def last_json(stdout: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return payload


def test_the_table_lists_every_policy_and_thompson_finds_the_best_arm() -> None:
    result = runner.invoke(app, ["simulate", *SMALL])
    assert result.exit_code == 0, result.output
    for name in ("thompson", "ucb1", "epsilon_greedy", "uniform"):
        assert name in result.stdout
    assert "Regret after 3,000 impressions (3 arms, best arm 2 at 0.3; 3 seeds" in result.stdout
    # Progress goes to standard error, so standard output stays for the results.
    assert "thompson" in result.stderr


def test_json_is_the_last_line_and_matches_the_physics_of_the_arms() -> None:
    result = runner.invoke(app, ["simulate", *SMALL, "--json", "--policies", "thompson,uniform"])
    assert result.exit_code == 0, result.output
    figures = last_json(result.stdout)["policies"]
    assert list(figures) == ["thompson", "uniform"]
    assert set(figures["thompson"]) == {"mean_regret", "sd_regret", "best_arm_share"}
    # Uniform shows each arm a third of the time: regret = horizon * (0.30 - mean rate).
    expected_uniform = 3000 * (0.30 - (0.02 + 0.04 + 0.30) / 3)
    assert figures["uniform"]["mean_regret"] == pytest.approx(expected_uniform, rel=0.05)
    assert figures["uniform"]["best_arm_share"] == pytest.approx(1 / 3, abs=0.03)
    assert figures["thompson"]["mean_regret"] < figures["uniform"]["mean_regret"] / 5
    assert figures["thompson"]["best_arm_share"] > 0.8
    assert figures["thompson"]["sd_regret"] > 0


def test_seeds_make_runs_reproducible_and_one_seed_has_no_spread() -> None:
    args = ["simulate", "--arms", "0.1,0.2", "--horizon", "500", "--seeds", "1", "--json"]
    first = last_json(runner.invoke(app, args).stdout)
    second = last_json(runner.invoke(app, args).stdout)
    assert first == second
    assert all(p["sd_regret"] == 0.0 for p in first["policies"].values())


def test_rates_can_come_from_a_file_one_per_line(tmp_path: Path) -> None:
    rates = tmp_path / "rates.txt"
    rates.write_text("# weekly deals\n0.01\n\n0.05\n0.20\n", encoding="utf-8")
    args = ["simulate", "--arms-file", str(rates), "--horizon", "400", "--seeds", "2"]
    result = runner.invoke(app, [*args, "--k", "2", "--batch", "10", "--json"])
    assert result.exit_code == 0, result.output
    assert set(last_json(result.stdout)["policies"]) == {
        "thompson",
        "ucb1",
        "epsilon_greedy",
        "uniform",
    }


def test_png_plot_is_written(tmp_path: Path) -> None:
    target = tmp_path / "regret.png"
    result = runner.invoke(app, ["simulate", *SMALL, "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert target.stat().st_size > 10_000
    assert f"wrote {target}" in result.stdout


def test_html_plot_embeds_plotly_and_names_every_policy(tmp_path: Path) -> None:
    target = tmp_path / "regret.html"
    result = runner.invoke(
        app, ["simulate", *SMALL, "--policies", "thompson,ucb1", "--out", str(target), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert set(last_json(result.stdout)["policies"]) == {"thompson", "ucb1"}
    html = target.read_text(encoding="utf-8")
    assert '"name":"thompson"' in html
    assert '"name":"ucb1"' in html
    # plotly.js itself is inside the file (a few MB), not fetched from a CDN: works offline.
    assert len(html) > 1_000_000
    assert re.search(r"<script[^>]*\bsrc=", html) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--arms", "0.02,x"], "--arms: 'x' is not a number"),
        (["--arms", "0.5"], "at least 2 arms are needed, got 1"),
        (["--arms", "0.5,1.5"], "click rates must lie in [0, 1], got 1.5"),
        (["--arms", "0.5,nan"], "click rates must lie in [0, 1], got nan"),
        (["--arms", "0.1,0.2", "--k", "3"], "--k 3 is more slots than the 2 arms"),
        ([], "give the true click rates with --arms or --arms-file"),
        (["--arms", "0.1,0.2", "--arms-file", "r.txt"], "not both"),
        (["--arms-file", "/no/such/rates.txt"], "no such file"),
        (["--arms", "0.1,0.2", "--policies", "thompson,best"], "unknown policy 'best'"),
        (["--arms", "0.1,0.2", "--horizon", "0"], "--horizon must be >= 1, got 0"),
        (["--arms", "0.1,0.2", "--seeds", "0"], "--seeds must be >= 1, got 0"),
        (["--arms", "0.1,0.2", "--batch", "0"], "--batch must be >= 1, got 0"),
        (["--arms", "0.1,0.2", "--epsilon", "2"], "epsilon must be in [0, 1]"),
        (["--arms", "0.1,0.2", "--out", "regret.pdf"], "written as .png or .html"),
        (["--arms", "0.1,0.2", "--out", "/no/such/dir/r.png"], "does not exist"),
        (["--arms", "0.1,0.2", "--min-prob-best", "0.4"], "--min-prob-best must be in (0.5, 1]"),
        (
            ["--arms", "0.1,0.2", "--max-relative-loss", "1"],
            "--max-relative-loss must be in [0, 1)",
        ),
        (["--arms", "0.1,0.2", "--min-impressions", "-1"], "--min-impressions must be an integer"),
        (["--arms", "0.1,0.2", "--examination", "1,x"], "--examination: 'x' is not a number"),
        (["--arms", "0.1,0.2", "--examination", "1.5"], "each factor must lie in (0, 1], got 1.5"),
        (["--arms", "0.1,0.2", "--k", "2", "--examination", "1"], "one factor per slot (--k 2)"),
        (["--arms", "0.1,0.2", "--k", "2", "--examination", "0.5,1"], "must not increase"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["simulate", *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_a_bad_line_in_the_rates_file_is_named(tmp_path: Path) -> None:
    rates = tmp_path / "rates.txt"
    rates.write_text("0.1\n0.2\nten percent\n", encoding="utf-8")
    result = runner.invoke(app, ["simulate", "--arms-file", str(rates)])
    assert result.exit_code == 2
    assert f"--arms-file {rates} line 3: 'ten percent' is not a number" in result.stderr


def test_the_winner_rule_report_says_when_the_rule_fired_and_on_whom() -> None:
    result = runner.invoke(app, ["simulate", *SMALL, "--policies", "thompson,uniform"])
    assert result.exit_code == 0, result.output
    assert "Winner rule: P(best) >= 0.95 or expected loss < 0.25% of the leader's CTR" in (
        result.stdout
    )
    # 30% against 4% and 2%: every seed names the best arm within 3,000 impressions.
    rows = [line for line in result.stdout.splitlines() if "3 of 3" in line]
    assert [row.split()[1] for row in rows] == ["thompson", "uniform"]
    assert all("0 of 3" in row for row in rows)  # no wrong winner


def test_the_rule_report_in_json_follows_the_rule_options() -> None:
    args = ["simulate", *SMALL, "--json", "--policies", "thompson,uniform"]
    default = last_json(runner.invoke(app, args).stdout)["winner_rule"]
    assert default["min_prob_best"] == 0.95
    assert default["max_relative_loss"] == 0.0025
    assert default["min_impressions"] == 100
    assert default["best_arm"] == 2
    for figures in default["policies"].values():
        assert figures["decided_share"] == 1.0
        assert figures["wrong_winners"] == 0
        assert figures["named"] == 3
        # The leader needs 100 impressions first; checkpoints come every 15 steps up to 3,000.
        assert 100 <= figures["median_impressions"] <= figures["p90_impressions"] <= 3000
    # A floor no run reaches: no seed decides, and the medians are beyond the horizon.
    never = last_json(runner.invoke(app, [*args, "--min-impressions", "5000"]).stdout)
    for figures in never["winner_rule"]["policies"].values():
        assert figures["decided_share"] == 0.0
        assert figures["median_impressions"] is None
        assert figures["named"] == 0
    assert never["policies"] == last_json(runner.invoke(app, args).stdout)["policies"]


def test_a_later_floor_decides_later() -> None:
    args = ["simulate", *SMALL, "--json", "--policies", "uniform", "--max-relative-loss", "0"]
    early = last_json(runner.invoke(app, args).stdout)["winner_rule"]["policies"]["uniform"]
    late = last_json(runner.invoke(app, [*args, "--min-impressions", "600"]).stdout)
    late_uniform = late["winner_rule"]["policies"]["uniform"]
    # Uniform shows the best arm a third of the time: 600 of its own take ~1,800 steps.
    assert late_uniform["median_impressions"] >= 1700
    assert early["median_impressions"] < late_uniform["median_impressions"]


def test_the_rule_report_can_be_turned_off() -> None:
    result = runner.invoke(app, ["simulate", *SMALL, "--no-rule-report"])
    assert result.exit_code == 0, result.output
    assert "Winner rule" not in result.stdout
    quiet = runner.invoke(app, ["simulate", *SMALL, "--no-rule-report", "--json"])
    assert "winner_rule" not in last_json(quiet.stdout)


def test_examination_factors_reach_the_simulation() -> None:
    # Uniform fills each slot with a random arm: it expects sum_p e_p x mean(rate) clicks a
    # step against sum_p e_p x (p-th best rate) for the best slate. Rates 0.02, 0.04, 0.30 and
    # e = (1, 0.5): 0.30 + 0.02 - 1.5 x 0.12 = 0.14 a step, against 0.10 with equal slots.
    args = ["simulate", *SMALL, "--k", "2", "--policies", "uniform", "--json"]
    seen = last_json(runner.invoke(app, [*args, "--examination", "1,0.5"]).stdout)
    plain = last_json(runner.invoke(app, args).stdout)
    assert seen["policies"]["uniform"]["mean_regret"] == pytest.approx(3000 * 0.14, rel=0.05)
    assert plain["policies"]["uniform"]["mean_regret"] == pytest.approx(3000 * 0.10, rel=0.05)


def test_position_correction_runs_and_still_finds_the_best_arm() -> None:
    args = ["simulate", *SMALL, "--k", "2", "--examination", "1,0.6", "--json"]
    result = runner.invoke(app, [*args, "--position-correction", "--policies", "thompson"])
    assert result.exit_code == 0, result.output
    payload = last_json(result.stdout)
    assert payload["policies"]["thompson"]["best_arm_share"] > 0.45  # of 2 slots: at most 0.5
    assert payload["winner_rule"]["policies"]["thompson"]["wrong_winners"] == 0


@pytest.mark.slow
def test_acceptance_thompson_regret_on_ten_arms() -> None:
    # The figure: 10 arms at 0.01..0.10, horizon 100,000, 10 seeds, one slot.
    arms = ",".join(f"{i / 100:.2f}" for i in range(1, 11))
    result = runner.invoke(
        app,
        [
            "simulate",
            "--arms",
            arms,
            "--horizon",
            "100000",
            "--seeds",
            "10",
            "--policies",
            "thompson,ucb1,uniform",
            "--json",
            "--no-rule-report",
        ],
    )
    assert result.exit_code == 0, result.output
    regret = {name: p["mean_regret"] for name, p in last_json(result.stdout)["policies"].items()}
    assert regret["thompson"] < 250
    assert regret["thompson"] < regret["ucb1"]
    assert regret["thompson"] < regret["uniform"]
