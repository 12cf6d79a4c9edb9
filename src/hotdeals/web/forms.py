"""Turn the dashboard's HTML forms into the service's specs, with messages people can act on.

The limits are the API's: the form values go through the very pydantic models of
:mod:`hotdeals.api.schemas`, so a name, a price or a slot count refused by ``POST /api/projects``
is refused here too, for the same reason. Only the wording of the errors differs: a line number
and a field label instead of a JSON path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from hotdeals.api.params import MAX_ID
from hotdeals.api.routers.projects import deal_spec
from hotdeals.api.schemas import MAX_SLOTS, DealIn, ProjectIn
from hotdeals.services.projects import DealSpec, ProjectSpec

LABELS = {
    "project_name": "Name",
    "project_description": "Description",
    "policy": "Policy",
    "slots": "Slots",
    "bandits": "Deals",
    "bandit_name": "name",
    "description": "description",
    "price": "price",
    "emoji": "emoji",
    "image_url": "image URL",
}
CURRENCY_SIGNS = "€$£ "
DEAL_LINE_HELP = "one deal per line: name | price | emoji | description (all but the name optional)"


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


def project_spec(
    *, name: str, description: str, policy: str, slots: str, deals: str
) -> ProjectSpec:
    """The spec of a new campaign from the create form; :class:`FormError` if anything is off."""
    lines = parse_deal_lines(deals)
    slots = slots.strip() or "3"
    if not (slots.isascii() and slots.isdigit()):
        # The API's numbers are strict (a JSON client must send 3, not "3"); a form only ever
        # sends text, so the whole number is read here and its range left to the schema.
        raise FormError([f"Slots: enter a whole number from 1 to {MAX_SLOTS}"])
    try:
        body = ProjectIn.model_validate(
            {
                "project_name": name,
                "project_description": description.strip() or None,
                "policy": policy or "thompson",
                "slots": int(slots),
                "bandits": [line.fields for line in lines],
            }
        )
    except ValidationError as exc:
        raise FormError(_messages(exc, lines)) from None
    return ProjectSpec(
        **body.model_dump(exclude={"bandits"}), bandits=[deal_spec(d) for d in body.bandits]
    )


def deal_from_form(
    *, name: str, price: str, emoji: str, description: str, image_url: str
) -> DealSpec:
    """The spec of one deal from the add-deal form."""
    try:
        body = DealIn.model_validate(
            {
                "bandit_name": name,
                "price": price.strip(CURRENCY_SIGNS) or None,
                "emoji": emoji.strip() or None,
                "description": description.strip() or None,
                "image_url": image_url.strip() or None,
            }
        )
    except ValidationError as exc:
        raise FormError(_messages(exc)) from None
    return deal_spec(body)
