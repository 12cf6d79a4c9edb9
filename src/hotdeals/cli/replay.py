"""``hotdeals replay``: what a policy would have earned, estimated on a uniform-random log.

The replay method (Li, Chu, Langford and Wang, WSDM 2011) answers "would Thompson sampling have
done better than our A/B split?" from the log we already have, without a new live test. The
log comes from a CSV file (Open Bandit Dataset layout) or from a ``uniform`` project.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from hotdeals.bandit import POLICY_NAMES, ReplayResult
from hotdeals.cli.common import database, err, out, reports_errors
from hotdeals.cli.progress import progress_bar
from hotdeals.errors import InvalidRequest
from hotdeals.services.offline import (
    EventLog,
    check_policy,
    load_project_log,
    read_log_csv,
    replay_log,
)

__all__ = ["replay_command"]


@reports_errors
def replay_command(
    log: Annotated[
        Path | None,
        typer.Argument(
            help="CSV log with item_id and click columns, optionally position and timestamp.",
            show_default=False,
        ),
    ] = None,
    from_db: Annotated[
        int | None,
        typer.Option(
            "--from-db",
            metavar="PROJECT_ID",
            help="Replay the transactions of this project (its policy must be uniform).",
        ),
    ] = None,
    policy: Annotated[
        str, typer.Option(help=f"Policy to evaluate: {', '.join(POLICY_NAMES)}.")
    ] = "thompson",
    epsilon: Annotated[float, typer.Option(help="Exploration rate of epsilon_greedy.")] = 0.1,
    seed: Annotated[int, typer.Option(help="Seed of the policy's and the bootstrap's draws.")] = 0,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON object (last line) instead of text.")
    ] = False,
) -> None:
    """Estimate a policy's click-through rate offline by replaying a uniform log.

    An event counts when the policy, learning from the events kept so far,
    would have shown the logged item in the logged slot (Li et al., 2011).
    Only a uniform-random log gives an unbiased estimate, so with --from-db
    the project's policy must be uniform.

    Example: hotdeals replay obd.csv --policy thompson
    """
    if (log is None) == (from_db is None):
        raise InvalidRequest("give either a CSV log file or --from-db PROJECT_ID")
    if seed < 0:
        raise InvalidRequest(f"--seed must be >= 0, got {seed}")
    check_policy(policy, epsilon)
    events = _load(log, from_db)
    with err.status(f"replaying {policy} over {len(events):,} events"):
        result = replay_log(events, policy, epsilon=epsilon, seed=seed)
    if json_output:
        typer.echo(json.dumps({"source": events.source, "policy": policy, **_figures(result)}))
        return
    out.print(
        f"replay of {policy} on {events.source}:\n"
        f"  replay CTR  {result.ctr:.4%}  (95% bootstrap CI {result.ci_low:.4%} to "
        f"{result.ci_high:.4%})\n"
        f"  kept events {result.kept:,} of {result.total:,} ({result.clicks:,} click(s))\n"
        f"  log CTR     {result.log_ctr:.4%}  (the uniform-random policy that collected the log)",
        highlight=False,
    )


def _load(log: Path | None, project_id: int | None) -> EventLog:
    if log is not None:
        with err.status(f"reading {log}"):
            return read_log_csv(log)
    assert project_id is not None
    with database() as (_, sessions), sessions.begin() as session, progress_bar() as bar:
        task = bar.add_task(f"loading project {project_id}", total=None)
        return load_project_log(
            session, project_id, progress=lambda done: bar.update(task, completed=done)
        )


def _figures(result: ReplayResult) -> dict[str, float | int]:
    return {
        "ctr": result.ctr,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "kept": result.kept,
        "total": result.total,
        "clicks": result.clicks,
        "log_ctr": result.log_ctr,
    }
