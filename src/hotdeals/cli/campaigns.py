"""``create-project``, ``add-deal`` and ``end-project``: campaigns from a shell script.

Each command is one transaction through ``services.projects``, exactly as the management API
does it. The new id is the only thing printed on standard output, so that a script can write
``PROJECT=$(hotdeals create-project ...)``; the human-readable line goes to standard error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape

from hotdeals.cli.common import database, err, out, reports_errors
from hotdeals.errors import InvalidRequest
from hotdeals.services import projects
from hotdeals.services.schedules import check_window
from hotdeals.services.specs import DealSpec, ProjectSpec, validated
from hotdeals.vocabulary import (
    DEFAULT_CURRENCY,
    DEFAULT_END_ACTION,
    DEFAULT_EPSILON,
    DEFAULT_MAX_RELATIVE_LOSS,
    DEFAULT_MIN_DURATION_DAYS,
    DEFAULT_MIN_IMPRESSIONS,
    DEFAULT_MIN_PROB_BEST,
    DEFAULT_NEW_DEAL_PRIOR,
    DEFAULT_OBJECTIVE,
    DEFAULT_POLICY,
    DEFAULT_POSITION_CORRECTION,
    DEFAULT_SLOTS,
    MAX_HALF_LIFE_HOURS,
    MAX_SLOTS,
    EndAction,
    NewDealPrior,
    Objective,
    PolicyName,
    ProjectStatus,
)
from hotdeals.web.learning import half_life_text

__all__ = ["add_deal", "create_project", "end_project", "parse_deal", "parse_moment"]

# How each field is called on the command line; the limits are the vocabulary's (the API's).
LABELS = {
    "project_name": "NAME",
    "project_description": "--description",
    "policy": "--policy",
    "epsilon": "--epsilon",
    "slots": "--slots",
    "currency": "--currency",
    "min_prob_best": "--min-prob-best",
    "max_relative_loss": "--max-relative-loss",
    "min_impressions": "--min-impressions",
    "min_duration_days": "--min-duration-days",
    "starts_at": "--starts-at",
    "ends_at": "--ends-at",
    "end_action": "--end-action",
    "position_correction": "--position-correction",
    "objective": "--objective",
    "half_life_hours": "--half-life",
    "new_deal_prior": "--new-deal-prior",
    "bandit_name": "deal name",
    "description": "--description",
    "price": "price",
    "emoji": "emoji",
}
# Times are ISO 8601 with a zone: a naive time would be read in the server's zone, which the
# person scripting a campaign cannot see, so the specs refuse one.
WHEN = "ISO 8601 with a zone, e.g. 2026-12-07T00:00:00+01:00 or 2026-12-07T00:00Z"
WINDOW = "--starts-at/--ends-at:"


def parse_moment(text: str | None, option: str) -> datetime | None:
    """An ISO 8601 date and time as typed, its zone checked later by the spec.

    Read here rather than by the spec because the spec, made for JSON, also takes a bare number
    as Unix seconds: ``--ends-at 2030`` would end a campaign in 1970.
    """
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidRequest(f"{option}: {text!r} is not a date and time ({WHEN})") from None


def parse_deal(text: str) -> DealSpec:
    """``NAME[:PRICE[:EMOJI]]``, e.g. ``Tomatoes -30%:1.99:🍅``; empty parts are left unset."""
    name, _, rest = text.partition(":")
    price, _, emoji = rest.partition(":")
    values = {"bandit_name": name, "price": price or None, "emoji": emoji or None}
    labels = {key: f"--deal {text!r}: {label}" for key, label in LABELS.items()}
    return validated(DealSpec, values, labels=labels)


@reports_errors
def create_project(
    name: Annotated[str, typer.Argument(help="Campaign name, e.g. 'Hot Deals, week 48'.")],
    deal: Annotated[
        list[str] | None,
        typer.Option(
            "--deal",
            metavar="NAME[:PRICE[:EMOJI]]",
            help="A deal of the campaign; repeat for each deal.",
        ),
    ] = None,
    policy: Annotated[
        str, typer.Option(help=f"Ranking policy: {', '.join(PolicyName)}.")
    ] = DEFAULT_POLICY,
    epsilon: Annotated[
        float, typer.Option(help="Exploration rate of epsilon_greedy, in [0, 1].")
    ] = DEFAULT_EPSILON,
    slots: Annotated[
        int, typer.Option(help=f"Deals shown per page (1-{MAX_SLOTS}).")
    ] = DEFAULT_SLOTS,
    description: Annotated[str | None, typer.Option(help="What the campaign is about.")] = None,
    currency: Annotated[
        str, typer.Option(help="ISO 4217 code of the deals' prices, e.g. EUR, GBP.")
    ] = DEFAULT_CURRENCY,
    starts_at: Annotated[
        str | None, typer.Option(help=f"When ranking starts ({WHEN}); default: at once.")
    ] = None,
    ends_at: Annotated[
        str | None, typer.Option(help=f"When ranking ends, exclusive ({WHEN}); default: never.")
    ] = None,
    end_action: Annotated[
        str,
        typer.Option(
            help=f"After --ends-at: {' or '.join(EndAction)} (roll out the leader in slot 1, "
            "then the rest by posterior mean)."
        ),
    ] = DEFAULT_END_ACTION,
    min_prob_best: Annotated[
        float, typer.Option(help="Winner rule: the leader's P(best) that names it.")
    ] = DEFAULT_MIN_PROB_BEST,
    max_relative_loss: Annotated[
        float,
        typer.Option(
            help="Winner rule: or the leader's expected loss below this share of its CTR "
            "(0 turns it off)."
        ),
    ] = DEFAULT_MAX_RELATIVE_LOSS,
    min_impressions: Annotated[
        int, typer.Option(help="Winner rule: impressions the leader needs first.")
    ] = DEFAULT_MIN_IMPRESSIONS,
    min_duration_days: Annotated[
        float, typer.Option(help="Winner rule: days the campaign must run first (e.g. 7).")
    ] = DEFAULT_MIN_DURATION_DAYS,
    position_correction: Annotated[
        bool | None,
        typer.Option(
            "--position-correction/--no-position-correction",
            help="Rank by position-corrected posteriors (slot effects fitted from the log); "
            f"default {'on' if DEFAULT_POSITION_CORRECTION else 'off'} for the click objective, "
            "off for the others.",
        ),
    ] = None,
    objective: Annotated[
        str,
        typer.Option(
            help=f"What rank maximises per impression: {', '.join(Objective)} (purchases "
            "reported with POST /api/purchases; revenue ranks with thompson only)."
        ),
    ] = DEFAULT_OBJECTIVE,
    half_life: Annotated[
        float | None,
        typer.Option(
            metavar="HOURS",
            help="Forgetting: rank from posteriors where an impression or a click counts half "
            f"after this many hours (0 < HOURS <= {MAX_HALF_LIFE_HOURS:g}); default: never forget.",
        ),
    ] = None,
    new_deal_prior: Annotated[
        str,
        typer.Option(
            help=f"Where a deal added later starts: {' or '.join(NewDealPrior)} (a prior "
            "fitted to the campaign's other deals)."
        ),
    ] = DEFAULT_NEW_DEAL_PRIOR,
) -> None:
    """Create a running campaign with its deals and print its project_id.

    Example: hotdeals create-project "Week 48" --deal "Kiwis:0.99:🥝" --deal Figs
    --ends-at 2026-12-06T23:59+01:00 --end-action rollout --half-life 72
    """
    deals = [parse_deal(text) for text in deal or []]
    values = {
        "project_name": name,
        "project_description": description,
        "policy": policy,
        "epsilon": epsilon,
        "slots": slots,
        "currency": currency,
        "starts_at": parse_moment(starts_at, "--starts-at"),
        "ends_at": parse_moment(ends_at, "--ends-at"),
        "end_action": end_action,
        "min_prob_best": min_prob_best,
        "max_relative_loss": max_relative_loss,
        "min_impressions": min_impressions,
        "min_duration_days": min_duration_days,
        "position_correction": position_correction,
        "objective": objective,
        "half_life_hours": half_life,
        "new_deal_prior": new_deal_prior,
        "bandits": deals,
    }
    spec = validated(ProjectSpec, values, labels=LABELS)
    check_window(spec.starts_at, spec.ends_at, f"{WINDOW} the campaign's")
    with database() as (_, sessions), sessions.begin() as session:
        project = projects.create_project(session, spec)
        project_id = project.project_id
    learning = ""
    if spec.half_life_hours is not None:
        learning += f", half-life {half_life_text(spec.half_life_hours)}"
    if spec.new_deal_prior == NewDealPrior.EMPIRICAL:
        learning += ", new deals from a prior fitted to the others"
    err.print(
        f"created project {project_id} {escape(repr(spec.project_name))} with {len(deals)} "
        f"deal(s), policy {policy}, {spec.slots} slot(s){learning}",
        highlight=False,
    )
    typer.echo(project_id)


@reports_errors
def add_deal(
    project_id: Annotated[int, typer.Argument(help="The campaign's project_id.")],
    name: Annotated[str, typer.Argument(help="Deal name, e.g. 'Ginger -40%'.")],
    price: Annotated[str | None, typer.Option(help="Price, e.g. 0.89.")] = None,
    emoji: Annotated[str | None, typer.Option(help="Picture of the deal, e.g. 🫚.")] = None,
    description: Annotated[str | None, typer.Option(help="Text under the deal.")] = None,
    starts_at: Annotated[
        str | None, typer.Option(help=f"When the deal is first ranked ({WHEN}).")
    ] = None,
    ends_at: Annotated[
        str | None, typer.Option(help=f"When the deal stops being ranked, exclusive ({WHEN}).")
    ] = None,
) -> None:
    """Add a deal to a campaign and print its bandit_id; it is explored at once (inside its
    window, if it has one).

    Example: hotdeals add-deal 1 "Ginger -40%" --price 0.89 --emoji 🫚
    --ends-at 2026-12-06T23:59+01:00
    """
    values = {
        "bandit_name": name,
        "price": price,
        "emoji": emoji,
        "description": description,
        "starts_at": parse_moment(starts_at, "--starts-at"),
        "ends_at": parse_moment(ends_at, "--ends-at"),
    }
    spec = validated(DealSpec, values, labels=LABELS)
    check_window(spec.starts_at, spec.ends_at, f"{WINDOW} deal {spec.bandit_name!r}:")
    with database() as (_, sessions), sessions.begin() as session:
        bandit = projects.add_bandit(session, project_id, spec)
        bandit_id = bandit.bandit_id
    err.print(
        f"added deal {bandit_id} {escape(repr(spec.bandit_name))} to project {project_id}",
        highlight=False,
    )
    typer.echo(bandit_id)


@reports_errors
def end_project(
    project_id: Annotated[int, typer.Argument(help="The campaign's project_id.")],
    winner: Annotated[
        int | None,
        typer.Option(metavar="BANDIT_ID", help="The deal that won (a bandit of this project)."),
    ] = None,
) -> None:
    """End a campaign, optionally naming the winning deal; an ended campaign stays ended.

    Example: hotdeals end-project 1 --winner 3
    """
    changes: dict[str, object] = {"status": ProjectStatus.ENDED}
    if winner is not None:
        changes["winner_bandit_id"] = winner
    with database() as (_, sessions), sessions.begin() as session:
        project = projects.update_project(session, project_id, changes)
        named = project.winner
        verdict = (
            f"winner: {escape(named.bandit_name)} (bandit {named.bandit_id})"
            if named is not None
            else "no winner named"
        )
    out.print(f"project {project_id} ended; {verdict}", highlight=False)
