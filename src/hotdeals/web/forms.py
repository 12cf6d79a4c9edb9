"""What the pages' HTML forms send (one model per form), and how it becomes the service's specs.

A form is text: every field is a string and a missing one is empty (or the form's default), so a
form model never refuses a request; unknown fields are ignored. The limits are the services':
the values go through :mod:`hotdeals.services.specs`, so a name, a price or a slot count refused
by ``POST /api/projects`` is refused here too, for the same reason. Only the wording of the
errors differs: a line number and a field label instead of a JSON path. The campaign page's
settings card is :mod:`.campaign_settings`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ConfigDict, ValidationError

from hotdeals.services.specs import DealSpec, ProjectSpec
from hotdeals.vocabulary import (
    DEFAULT_CURRENCY,
    DEFAULT_END_ACTION,
    DEFAULT_MAX_RELATIVE_LOSS,
    DEFAULT_MIN_DURATION_DAYS,
    DEFAULT_MIN_IMPRESSIONS,
    DEFAULT_MIN_PROB_BEST,
    DEFAULT_NEW_DEAL_PRIOR,
    DEFAULT_OBJECTIVE,
    DEFAULT_POLICY,
    DEFAULT_POSITION_CORRECTION,
    DEFAULT_SLOTS,
    MAX_ID,
    MAX_SLOTS,
)
from hotdeals.web.windows import EXAMPLE, ZONE, parse_moment

LABELS = {
    "project_name": "Name",
    "project_description": "Description",
    "policy": "Policy",
    "objective": "Objective",
    "slots": "Slots",
    "currency": "Currency",
    "bandits": "Deals",
    "bandit_name": "name",
    "description": "description",
    "price": "price",
    "emoji": "emoji",
    "image_url": "image URL",
    "starts_at": f"Starts ({ZONE})",
    "ends_at": f"Ends ({ZONE})",
    "end_action": "At the end",
    "min_prob_best": "P(best) needed",
    "max_relative_loss": "Or expected loss below",
    "min_impressions": "Leader's impressions",
    "min_duration_days": "Minimum days",
    "position_correction": "Position correction",
    "half_life_hours": "Half-life (hours)",
    "new_deal_prior": "New deals start from",
}
CHECKED = frozenset({"on", "true", "1", "yes"})
SpecT = TypeVar("SpecT", bound=BaseModel)
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
    objective: str = DEFAULT_OBJECTIVE.value
    slots: str = str(DEFAULT_SLOTS)
    currency: str = DEFAULT_CURRENCY
    deals: str = ""
    starts_at: str = ""
    ends_at: str = ""
    end_action: str = DEFAULT_END_ACTION.value
    min_prob_best: str = f"{DEFAULT_MIN_PROB_BEST:g}"
    max_relative_loss: str = f"{DEFAULT_MAX_RELATIVE_LOSS:.2%}"
    min_impressions: str = str(DEFAULT_MIN_IMPRESSIONS)
    min_duration_days: str = f"{DEFAULT_MIN_DURATION_DAYS:g}"
    # A checkbox sends its value when ticked and nothing at all when not, so a missing field
    # reads as "off"; the fresh form (:meth:`fresh`) is ticked when the default is on.
    position_correction: str = ""
    half_life_hours: str = ""  # empty: forgetting off
    new_deal_prior: str = DEFAULT_NEW_DEAL_PRIOR.value

    @classmethod
    def fresh(cls) -> ProjectForm:
        """The form as a new campaign starts: every field at the service's default."""
        return cls(position_correction="on" if DEFAULT_POSITION_CORRECTION else "")


class DealForm(PostedForm):
    """The project page's "add a deal" form."""

    bandit_name: str = ""
    price: str = ""
    emoji: str = ""
    description: str = ""
    image_url: str = ""
    starts_at: str = ""
    ends_at: str = ""


class WindowForm(PostedForm):
    """A deal's window on the project page: an empty end leaves that side open."""

    starts_at: str = ""
    ends_at: str = ""


class StatusForm(PostedForm):
    """Pause, resume or end a campaign (ending may name the winner).

    Ending is final, so it takes a second step: only ``confirm = "end"``, sent by the
    confirmation page's button, ends the campaign (:mod:`.dashboard_end`).
    """

    status: str = ""
    winner_bandit_id: str = ""
    confirm: str = ""


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


def _share(text: str, default: float) -> float | str:
    """A share typed as a fraction ("0.0025") or a percentage ("0.25%"); blank is the default.

    Anything else goes on as text, for the spec to refuse in its own words.
    """
    text = text.strip()
    if not text:
        return default
    if text.endswith("%"):
        try:
            return float(text[:-1]) / 100
        except ValueError:
            return text
    return text


def _moments(form: ProjectForm | DealForm | WindowForm, problems: list[str]) -> dict[str, Any]:
    """``starts_at`` and ``ends_at`` read as UTC; an unreadable one is a problem, left unset."""
    found: dict[str, Any] = {}
    for name in ("starts_at", "ends_at"):
        try:
            found[name] = parse_moment(getattr(form, name))
        except ValueError:
            problems.append(f"{LABELS[name]}: enter a date and time such as {EXAMPLE}")
    return found


def form_validated(
    model: type[SpecT], values: dict[str, Any], problems: list[str], lines: Sequence[DealLine] = ()
) -> SpecT:
    """``model`` from ``values``; every problem, the form's own and the spec's, at once."""
    try:
        spec = model.model_validate(values)
    except ValidationError as exc:
        raise FormError([*problems, *_messages(exc, lines)]) from None
    if problems:
        raise FormError(problems)
    return spec


def project_spec(form: ProjectForm) -> ProjectSpec:
    """The spec of a new campaign from the create form; :class:`FormError` if anything is off."""
    lines = parse_deal_lines(form.deals)
    problems: list[str] = []
    values: dict[str, Any] = {
        "project_name": form.project_name,
        "project_description": form.project_description.strip() or None,
        "policy": form.policy or DEFAULT_POLICY,
        "objective": form.objective.strip() or DEFAULT_OBJECTIVE,
        "currency": form.currency.strip().upper() or DEFAULT_CURRENCY,
        "end_action": form.end_action.strip() or DEFAULT_END_ACTION,
        "min_prob_best": _share(form.min_prob_best, DEFAULT_MIN_PROB_BEST),
        "max_relative_loss": _share(form.max_relative_loss, DEFAULT_MAX_RELATIVE_LOSS),
        "min_impressions": form.min_impressions.strip() or DEFAULT_MIN_IMPRESSIONS,
        "min_duration_days": form.min_duration_days.strip() or DEFAULT_MIN_DURATION_DAYS,
        "position_correction": form.position_correction.strip().lower() in CHECKED,
        **learning_values(form.half_life_hours, form.new_deal_prior),
        "bandits": [line.fields for line in lines],
        **_moments(form, problems),
    }
    slots = form.slots.strip() or str(DEFAULT_SLOTS)
    if slots.isascii() and slots.isdigit():
        values["slots"] = int(slots)
    else:
        # The API's numbers are strict (a JSON client must send 3, not "3"); a form only ever
        # sends text, so the whole number is read here and its range left to the schema.
        problems.append(f"Slots: enter a whole number from 1 to {MAX_SLOTS}")
    return form_validated(ProjectSpec, values, problems, lines)


def learning_values(half_life_hours: str, new_deal_prior: str) -> dict[str, Any]:
    """A half-life field (empty: forgetting off) and a new-deal prior field (empty: the
    default) as a spec reads them; the create form and the settings card share them."""
    return {
        "half_life_hours": half_life_hours.strip() or None,
        "new_deal_prior": new_deal_prior.strip() or DEFAULT_NEW_DEAL_PRIOR,
    }


def deal_spec(form: DealForm) -> DealSpec:
    """The spec of one deal from the add-deal form; :class:`FormError` if anything is off."""
    problems: list[str] = []
    values = {
        "bandit_name": form.bandit_name,
        "price": form.price.strip(CURRENCY_SIGNS) or None,
        "emoji": form.emoji.strip() or None,
        "description": form.description.strip() or None,
        "image_url": form.image_url.strip() or None,
        **_moments(form, problems),
    }
    return form_validated(DealSpec, values, problems)


def window_changes(form: WindowForm) -> dict[str, Any]:
    """A deal's new window from its form (blank ends open that side); :class:`FormError` if a
    time is unreadable. Whether the window is non-empty is the service's check."""
    problems: list[str] = []
    found = _moments(form, problems)
    if problems:
        raise FormError(problems)
    return found
