"""What the pages' HTML forms send (one model per form), and how it becomes the service's specs.

A form is text: every field is a string and a missing one is empty (or the form's default), so a
form model never refuses a request; unknown fields are ignored. The limits are the services':
the values go through :mod:`hotdeals.services.specs`, so a name, a price or a slot count refused
by ``POST /api/projects`` is refused here too, for the same reason. Only the wording of the
errors differs: a line number and a field label instead of a JSON path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, ValidationError

from hotdeals.services.specs import DealSpec, ProjectSpec
from hotdeals.vocabulary import DEFAULT_CURRENCY, DEFAULT_POLICY, DEFAULT_SLOTS, MAX_ID, MAX_SLOTS

LABELS = {
    "project_name": "Name",
    "project_description": "Description",
    "policy": "Policy",
    "slots": "Slots",
    "currency": "Currency",
    "bandits": "Deals",
    "bandit_name": "name",
    "description": "description",
    "price": "price",
    "emoji": "emoji",
    "image_url": "image URL",
}
CURRENCY_SIGNS = "€$£ "
DEAL_LINE_HELP = "one deal per line: name | price | emoji | description (all but the name optional)"


# What the forms send ----------------------------------------------------------------------


class PostedForm(BaseModel):
    """Text fields with defaults, unknown fields ignored: the ``csrf`` field, say, is read by
    the dependency that checks it (:func:`posted_csrf`), before the route runs."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class ProjectForm(PostedForm):
    """The dashboard's "new campaign" form."""

    project_name: str = ""
    project_description: str = ""
    policy: str = DEFAULT_POLICY.value
    slots: str = str(DEFAULT_SLOTS)
    currency: str = DEFAULT_CURRENCY
    deals: str = ""


class DealForm(PostedForm):
    """The project page's "add a deal" form."""

    bandit_name: str = ""
    price: str = ""
    emoji: str = ""
    description: str = ""
    image_url: str = ""


class StatusForm(PostedForm):
    """Pause, resume or end a campaign (ending may name the winner)."""

    status: str = ""
    winner_bandit_id: str = ""


class ActiveForm(PostedForm):
    """Deactivate (``"false"``) or reactivate (``"true"``) a deal."""

    active: str = ""


class SignInForm(PostedForm):
    """The dashboard's sign-in: the admin token."""

    token: str = ""


class ShopForm(PostedForm):
    """Every storefront form sends back the campaign the shopper is on, if they asked for one."""

    project: str = ""


class CustomerForm(ShopForm):
    """The shop's sign-in: an email, and a name when the email is new."""

    email: str = ""
    name: str = ""


async def posted_csrf(request: Request) -> str:
    """The ``csrf`` field of the posted form, or "" (FastAPI has parsed the form already)."""
    value = (await request.form()).get("csrf")
    return value if isinstance(value, str) else ""


# From forms to specs ----------------------------------------------------------------------


class FormError(ValueError):
    """What was wrong with a form, one message per problem."""

    def __init__(self, messages: Sequence[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


def parse_id(text: str | None, maximum: int = MAX_ID) -> int | None:
    """A positive id that fits its column, or None (the caller answers "not found")."""
    if text is None or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if 1 <= value <= maximum else None


@dataclass(frozen=True, slots=True)
class DealLine:
    """One line of the deals textarea, with its line number for error messages."""

    line: int
    fields: dict[str, Any]


def parse_deal_lines(text: str) -> list[DealLine]:
    """``name | price | emoji | description``; blank lines are skipped."""
    deals = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        parts = [part.strip() for part in raw.split("|", 3)]
        parts += [""] * (4 - len(parts))
        name, price, emoji, description = parts
        deals.append(
            DealLine(
                number,
                {
                    "bandit_name": name,
                    "price": price.strip(CURRENCY_SIGNS) or None,
                    "emoji": emoji or None,
                    "description": description or None,
                },
            )
        )
    return deals


def _messages(exc: ValidationError, deal_lines: Sequence[DealLine] = ()) -> list[str]:
    messages = []
    for error in exc.errors():
        loc = list(error["loc"])
        message = str(error["msg"])
        if len(loc) >= 3 and loc[0] == "bandits" and isinstance(loc[1], int):
            line = deal_lines[loc[1]].line if loc[1] < len(deal_lines) else loc[1] + 1
            messages.append(f"Deals, line {line}, {LABELS.get(str(loc[2]), loc[2])}: {message}")
        elif loc:
            messages.append(f"{LABELS.get(str(loc[0]), loc[0])}: {message}")
        else:
            messages.append(message)
    return messages


def project_spec(form: ProjectForm) -> ProjectSpec:
    """The spec of a new campaign from the create form; :class:`FormError` if anything is off."""
    lines = parse_deal_lines(form.deals)
    slots = form.slots.strip() or str(DEFAULT_SLOTS)
    if not (slots.isascii() and slots.isdigit()):
        # The API's numbers are strict (a JSON client must send 3, not "3"); a form only ever
        # sends text, so the whole number is read here and its range left to the schema.
        raise FormError([f"Slots: enter a whole number from 1 to {MAX_SLOTS}"])
    try:
        return ProjectSpec.model_validate(
            {
                "project_name": form.project_name,
                "project_description": form.project_description.strip() or None,
                "policy": form.policy or DEFAULT_POLICY,
                "slots": int(slots),
                "currency": form.currency.strip().upper() or DEFAULT_CURRENCY,
                "bandits": [line.fields for line in lines],
            }
        )
    except ValidationError as exc:
        raise FormError(_messages(exc, lines)) from None


def deal_spec(form: DealForm) -> DealSpec:
    """The spec of one deal from the add-deal form; :class:`FormError` if anything is off."""
    try:
        return DealSpec.model_validate(
            {
                "bandit_name": form.bandit_name,
                "price": form.price.strip(CURRENCY_SIGNS) or None,
                "emoji": form.emoji.strip() or None,
                "description": form.description.strip() or None,
                "image_url": form.image_url.strip() or None,
            }
        )
    except ValidationError as exc:
        raise FormError(_messages(exc)) from None
