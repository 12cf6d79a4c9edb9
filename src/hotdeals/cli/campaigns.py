"""``create-project``, ``add-deal`` and ``end-project``: campaigns from a shell script.

Each command is one transaction through ``services.projects``, exactly as the management API
does it. The new id is the only thing printed on standard output, so that a script can write
``PROJECT=$(hotdeals create-project ...)``; the human-readable line goes to standard error.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Final

import typer
from rich.markup import escape

from hotdeals.bandit import POLICY_NAMES
from hotdeals.cli.common import database, err, out, reports_errors
from hotdeals.errors import InvalidRequest
from hotdeals.services import projects
from hotdeals.services.projects import DealSpec, ProjectSpec

__all__ = ["add_deal", "create_project", "end_project", "parse_deal"]

# The columns' limits (and the management API's): checked here so that a long value is one
# clear line instead of a database error.
MAX_NAME: Final = 200
MAX_DESCRIPTION: Final = 5000
MAX_EMOJI: Final = 16
MAX_SLOTS: Final = 20
MAX_PRICE: Final = Decimal("99999999.99")


def parse_deal(text: str) -> DealSpec:
    """``NAME[:PRICE[:EMOJI]]``, e.g. ``Tomatoes -30%:1.99:🍅``; empty parts are left unset."""
    name, _, rest = text.partition(":")
    price_text, _, emoji = rest.partition(":")
    return _deal(name, price_text or None, emoji or None, None, source=f"--deal {text!r}")


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
        str, typer.Option(help=f"Ranking policy: {', '.join(POLICY_NAMES)}.")
    ] = "thompson",
    epsilon: Annotated[float, typer.Option(help="Exploration rate of epsilon_greedy.")] = 0.1,
    slots: Annotated[int, typer.Option(help=f"Deals shown per page (1-{MAX_SLOTS}).")] = 3,
    description: Annotated[str | None, typer.Option(help="What the campaign is about.")] = None,
) -> None:
    """Create a running campaign with its deals and print its project_id.

    Example: hotdeals create-project "Week 48" --deal "Kiwis:0.99:🥝" --deal Figs
    """
    deals = [parse_deal(text) for text in deal or []]
    if not 0.0 <= epsilon <= 1.0:  # services.projects checks it only for epsilon_greedy
        raise InvalidRequest(f"--epsilon: epsilon must be in [0, 1], got {epsilon}")
    spec = ProjectSpec(
        project_name=_name(name, "NAME"),
        project_description=_description(description),
        policy=policy,
        epsilon=epsilon,
        slots=_slots(slots),
        bandits=deals,
    )
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
    spec = _deal(name, price, emoji, description, source="")
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
    changes: dict[str, object] = {"status": "ended"}
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


def _deal(
    name: str, price: str | None, emoji: str | None, description: str | None, *, source: str
) -> DealSpec:
    prefix = f"{source}: " if source else ""
    return DealSpec(
        bandit_name=_name(name, f"{prefix}deal name"),
        description=_description(description),
        price=None if price is None else _price(price, prefix),
        emoji=None if emoji is None else _emoji(emoji, prefix),
    )


def _name(text: str, what: str) -> str:
    name = text.strip()
    if not name:
        raise InvalidRequest(f"{what} must not be empty")
    if len(name) > MAX_NAME:
        raise InvalidRequest(f"{what} is {len(name)} characters long; at most {MAX_NAME}")
    return name


def _description(text: str | None) -> str | None:
    if text is not None and len(text) > MAX_DESCRIPTION:
        raise InvalidRequest(f"--description is {len(text)} characters; at most {MAX_DESCRIPTION}")
    return text


def _price(text: str, prefix: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidRequest(f"{prefix}price {text!r} is not a number") from None
    if not value.is_finite() or value < 0 or value > MAX_PRICE:
        raise InvalidRequest(f"{prefix}price must be between 0 and {MAX_PRICE}, got {text}")
    if value != value.quantize(Decimal("0.01")):
        raise InvalidRequest(f"{prefix}price has at most 2 decimals, got {text}")
    return value


def _emoji(text: str, prefix: str) -> str:
    emoji = text.strip()
    if not emoji or len(emoji) > MAX_EMOJI:
        raise InvalidRequest(f"{prefix}emoji must be 1 to {MAX_EMOJI} characters, got {text!r}")
    return emoji


def _slots(slots: int) -> int:
    if not 1 <= slots <= MAX_SLOTS:
        raise InvalidRequest(f"--slots must be between 1 and {MAX_SLOTS}, got {slots}")
    return slots
