"""``hotdeals replay``: what a policy would have earned, estimated on a uniform-random log.

The replay method (Li, Chu, Langford and Wang, WSDM 2011) answers "would Thompson sampling have
done better than our A/B split?" from the log we already have, without a new live test. The
log comes from a CSV file (Open Bandit Dataset layout, or a project's CSV export) or from a
``uniform`` project.
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
    check_policy,
    project_log,
    read_log_csv,
    replay_log,
    replay_project,
)

__all__ = ["replay_command"]


@reports_errors
def replay_command(
    log: Annotated[
        Path | None,
        typer.Argument(
            help="CSV log with item_id and click columns, optionally position and timestamp; "
            "or a CSV written by hotdeals export (bandit_id and clicked).",
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
    (or: hotdeals export 3 --out week48.csv; hotdeals replay week48.csv)
    """
    if (log is None) == (from_db is None):
        raise InvalidRequest("give either a CSV log file or --from-db PROJECT_ID")
    if seed < 0:
        raise InvalidRequest(f"--seed must be >= 0, got {seed}")
    check_policy(policy, epsilon)
    source, result = _replay(log, from_db, policy, epsilon, seed)
    if json_output:
        typer.echo(json.dumps({"source": source, "policy": policy, **_figures(result)}))
        return
    out.print(
        f"replay of {policy} on {source}:\n"
        f"  replay CTR  {result.ctr:.4%}  (95% bootstrap CI {result.ci_low:.4%} to "
        f"{result.ci_high:.4%})\n"
        f"  kept events {result.kept:,} of {result.total:,} ({result.clicks:,} click(s))\n"
        f"  log CTR     {result.log_ctr:.4%}  (the uniform-random policy that collected the log)",
        highlight=False,
    )


def _replay(
    log: Path | None, project_id: int | None, policy: str, epsilon: float, seed: int
) -> tuple[str, ReplayResult]:
    """A file is read whole (only the columns replay needs); a project's log is replayed as it
    is read, in pieces, so its memory does not grow with the log."""
    if log is not None:
        with err.status(f"reading {log}"):
            events = read_log_csv(log)
        with err.status(f"replaying {policy} over {len(events):,} events"):
            return events.source, replay_log(events, policy, epsilon=epsilon, seed=seed)
    assert project_id is not None
    with database() as (engine, _), project_log(engine, project_id) as transactions:
        with progress_bar() as bar:
            task = bar.add_task(
                f"replaying {policy} over {transactions.source}", total=len(transactions)
            )
            result = replay_project(
                transactions,
                policy,
                epsilon=epsilon,
                seed=seed,
                progress=lambda done: bar.update(task, completed=done),
            )
        return transactions.source, result


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
