"""What an analyst says about a new campaign or deal, validated by the service's vocabulary.

Every interface ends up here: the API's request bodies, the dashboard's forms and the CLI's
options all become a :class:`ProjectSpec` or :class:`DealSpec` (the shop's sign-in a
:class:`CustomerSpec`), so a limit is checked the same way whichever door a value came through.
The API adds strict JSON types on top (``"3"`` is not 3 over the wire); a form or a shell only
ever sends text, so these models convert it.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError

from hotdeals.errors import InvalidRequest
from hotdeals.vocabulary import (
    DEFAULT_CURRENCY,
    DEFAULT_END_ACTION,
    DEFAULT_EPSILON,
    DEFAULT_HALF_LIFE_HOURS,
    DEFAULT_MAX_RELATIVE_LOSS,
    DEFAULT_MIN_DURATION_DAYS,
    DEFAULT_MIN_IMPRESSIONS,
    DEFAULT_MIN_PROB_BEST,
    DEFAULT_NEW_DEAL_PRIOR,
    DEFAULT_OBJECTIVE,
    DEFAULT_POLICY,
    DEFAULT_PRIOR,
    DEFAULT_SLOTS,
    MAX_DEALS_PER_REQUEST,
    MAX_EMAIL,
    Currency,
    Description,
    Emoji,
    EndAction,
    EndsAt,
    Epsilon,
    HalfLifeHours,
    ImageUrl,
    MaxRelativeLoss,
    MinDurationDays,
    MinImpressions,
    MinProbBest,
    Name,
    NewDealPrior,
    Objective,
    PolicyName,
    Price,
    Prior,
    Slots,
    StartsAt,
)

__all__ = ["CustomerSpec", "DealSpec", "ProjectSpec", "validated"]


class Spec(BaseModel):
    """Frozen, trimmed, and no unknown fields: a spec is a value, not a bag of options."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class DealSpec(Spec):
    """A new deal: its name and what the shop shows with it."""

    bandit_name: Name
    description: Description | None = None
    price: Price | None = None
    emoji: Emoji | None = None
    image_url: ImageUrl | None = None
    active: bool = True
    starts_at: StartsAt | None = None
    ends_at: EndsAt | None = None


class ProjectSpec(Spec):
    """A new campaign: its policy, page, prior, winner rule and first deals."""

    project_name: Name
    project_description: Description | None = None
    policy: PolicyName = DEFAULT_POLICY
    epsilon: Epsilon = DEFAULT_EPSILON
    slots: Slots = DEFAULT_SLOTS
    prior_alpha: Prior = DEFAULT_PRIOR
    prior_beta: Prior = DEFAULT_PRIOR
    min_prob_best: MinProbBest = DEFAULT_MIN_PROB_BEST
    min_impressions: MinImpressions = DEFAULT_MIN_IMPRESSIONS
    max_relative_loss: MaxRelativeLoss = DEFAULT_MAX_RELATIVE_LOSS
    min_duration_days: MinDurationDays = DEFAULT_MIN_DURATION_DAYS
    starts_at: StartsAt | None = None
    ends_at: EndsAt | None = None
    end_action: EndAction = DEFAULT_END_ACTION
    position_correction: bool | None = None
    """None: on for a click campaign (the vocabulary's default), off for the other objectives."""
    objective: Objective = DEFAULT_OBJECTIVE
    half_life_hours: HalfLifeHours | None = DEFAULT_HALF_LIFE_HOURS
    new_deal_prior: NewDealPrior = DEFAULT_NEW_DEAL_PRIOR
    currency: Currency = DEFAULT_CURRENCY
    bandits: tuple[DealSpec, ...] = Field(default=(), max_length=MAX_DEALS_PER_REQUEST)


class CustomerSpec(Spec):
    """A new customer: an email address (unique, compared case-insensitively) and a name."""

    email: EmailStr = Field(max_length=MAX_EMAIL)
    name: Name


SpecT = TypeVar("SpecT", bound=Spec)


def validated(model: type[SpecT], values: dict[str, Any], *, labels: dict[str, str]) -> SpecT:
    """``model`` built from ``values``, or :class:`InvalidRequest` naming each field that failed.

    ``labels`` words a field as the caller's user knows it (``--slots``, ``deal name``), so the
    CLI's one-line errors speak in its own options while the limits stay the vocabulary's.
    """
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            label = labels.get(str(error["loc"][0]), field) if error["loc"] else "value"
            problems.append(f"{label}: {error['msg']}")
        raise InvalidRequest("; ".join(problems)) from None
