"""``create-project``, ``add-deal`` and ``end-project``: campaigns from a shell script.

Each command is one transaction through ``services.projects``, exactly as the management API
does it. The new id is the only thing printed on standard output, so that a script can write
``PROJECT=$(hotdeals create-project ...)``; the human-readable line goes to standard error.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from hotdeals.cli.common import database, err, out, reports_errors
from hotdeals.services import projects
from hotdeals.services.specs import DealSpec, ProjectSpec, validated
from hotdeals.vocabulary import (
    DEFAULT_CURRENCY,
    DEFAULT_EPSILON,
    DEFAULT_POLICY,
    DEFAULT_SLOTS,
    MAX_SLOTS,
    PolicyName,
    ProjectStatus,
)

__all__ = ["add_deal", "create_project", "end_project", "parse_deal"]

# How each field is called on the command line; the limits are the vocabulary's (the API's).
LABELS = {
    "project_name": "NAME",
    "project_description": "--description",
    "policy": "--policy",
    "epsilon": "--epsilon",
    "slots": "--slots",
    "currency": "--currency",
    "bandit_name": "deal name",
    "description": "--description",
    "price": "price",
    "emoji": "emoji",
}


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
) -> None:
    """Create a running campaign with its deals and print its project_id.

    Example: hotdeals create-project "Week 48" --deal "Kiwis:0.99:🥝" --deal Figs
    """
    deals = [parse_deal(text) for text in deal or []]
    values = {
        "project_name": name,
        "project_description": description,
        "policy": policy,
        "epsilon": epsilon,
        "slots": slots,
        "currency": currency,
        "bandits": deals,
    }
    spec = validated(ProjectSpec, values, labels=LABELS)
    with database() as (_, sessions), sessions.begin() as session:
        project = projects.create_project(session, spec)
        project_id = project.project_id
    err.print(
        f"created project {project_id} {escape(repr(spec.project_name))} with {len(deals)} "
        f"deal(s), policy {policy}, {spec.slots} slot(s)",
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
) -> None:
    """Add a deal to a campaign and print its bandit_id; it is explored at once.

    Example: hotdeals add-deal 1 "Ginger -40%" --price 0.89 --emoji 🫚
    """
    values = {"bandit_name": name, "price": price, "emoji": emoji, "description": description}
    spec = validated(DealSpec, values, labels=LABELS)
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
