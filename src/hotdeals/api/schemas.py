"""Request and response bodies of the JSON API; every limit comes from ``hotdeals.vocabulary``.

Every request model forbids unknown fields and bounds every string and number, so a client
learns from a 422 which field broke which limit instead of the server storing something odd.
ORM models and these schemas are separate classes on purpose: the wire format can stay stable
while the tables grow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)

from hotdeals.api.wire_types import (
    StrictBool,
    StrictEndsAt,
    StrictEpsilon,
    StrictHalfLifeHours,
    StrictId,
    StrictMaxRelativeLoss,
    StrictMinDurationDays,
    StrictMinImpressions,
    StrictMinProbBest,
    StrictPrior,
    StrictSlots,
    StrictStartsAt,
)
from hotdeals.services.schedules import project_status
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
    DEFAULT_POSITION_CORRECTION,
    DEFAULT_PRIOR,
    DEFAULT_SLOTS,
    MAX_DEALS_PER_REQUEST,
    Currency,
    Description,
    EffectiveStatus,
    Emoji,
    EndAction,
    ImageUrl,
    Name,
    NewDealPrior,
    Objective,
    PolicyName,
    Price,
    ProjectStatus,
)


class Request(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped.

    Numbers and booleans are strict (``"3"`` is not 3, ``0`` is not false): a client that sends
    the wrong type has a bug we should tell it about, not guess around.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Patch(Request):
    """Base of partial updates: absent fields stay; an explicit null is refused for a field
    that cannot be empty."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Patch:
        for name in self.model_fields_set:
            if getattr(self, name) is None and name not in self.nullable:
                raise ValueError(f"{name} may not be null")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


STRAWBERRIES: dict[str, Any] = {
    "bandit_name": "Strawberries 2 for 1",
    "description": "Dutch, 500 g punnets",
    "price": "3.49",
    "emoji": "🍓",
    "image_url": "https://shop.example.com/img/strawberries.jpg",
}


class DealIn(Request):
    model_config = ConfigDict(
        json_schema_extra={"examples": [STRAWBERRIES, {"bandit_name": "Coffee beans -25%"}]}
    )

    bandit_name: Name = Field(examples=["Strawberries 2 for 1"])
    description: Description | None = Field(default=None, examples=["Dutch, 500 g punnets"])
    price: Price | None = Field(default=None, examples=["3.49"])
    emoji: Emoji | None = Field(default=None, examples=["🍓"])
    image_url: ImageUrl | None = None
    active: StrictBool = True
    starts_at: StrictStartsAt | None = None
    ends_at: StrictEndsAt | None = None


HALF_LIFE_DESCRIPTION = (
    "forgetting: rank samples from posteriors where an impression or a click counts half after "
    "this many hours, shrinking toward each deal's own prior (null: never forget; the counters "
    "stay exact either way)"
)
NEW_DEAL_PRIOR_DESCRIPTION = (
    "where a deal added later starts: 'campaign' (prior_alpha, prior_beta) or 'empirical' "
    "(fitted to the campaign's other deals)"
)
OBJECTIVE_DESCRIPTION = (
    "what rank maximises per impression: 'click', 'purchase' (purchases reported with POST "
    "/api/purchases) or 'revenue' (their value; thompson only). Purchase and revenue do not "
    "take position_correction, half_life_hours or the empirical new_deal_prior yet (400)"
)


class ProjectIn(Request):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "project_name": "Hot Deals, week 48",
                    "project_description": "Fruit and coffee on the home page",
                    "policy": "thompson",
                    "slots": 2,
                    "currency": "EUR",
                    "ends_at": "2026-12-13T23:59:59+01:00",
                    "end_action": "rollout",
                    "bandits": [
                        STRAWBERRIES,
                        {"bandit_name": "Coffee beans -25%", "price": "7.99", "emoji": "☕"},
                        {"bandit_name": "Tomatoes -30%", "price": "1.39"},
                    ],
                }
            ]
        }
    )

    project_name: Name = Field(examples=["Hot Deals, week 48"])
    project_description: Description | None = None
    policy: PolicyName = DEFAULT_POLICY
    epsilon: StrictEpsilon = DEFAULT_EPSILON
    slots: StrictSlots = DEFAULT_SLOTS
    prior_alpha: StrictPrior = DEFAULT_PRIOR
    prior_beta: StrictPrior = DEFAULT_PRIOR
    min_prob_best: StrictMinProbBest = DEFAULT_MIN_PROB_BEST
    min_impressions: StrictMinImpressions = DEFAULT_MIN_IMPRESSIONS
    max_relative_loss: StrictMaxRelativeLoss = DEFAULT_MAX_RELATIVE_LOSS
    min_duration_days: StrictMinDurationDays = DEFAULT_MIN_DURATION_DAYS
    starts_at: StrictStartsAt | None = None
    ends_at: StrictEndsAt | None = None
    end_action: EndAction = Field(
        default=DEFAULT_END_ACTION,
        description="after ends_at: 'stop' ranking, or 'rollout' the leader (no exploration)",
    )
    position_correction: StrictBool | None = Field(
        default=None,
        description="rank by position-corrected posteriors (slot effects estimated from the "
        f"log); default {str(DEFAULT_POSITION_CORRECTION).lower()} for the click objective, "
        "false for the others",
    )
    objective: Objective = Field(default=DEFAULT_OBJECTIVE, description=OBJECTIVE_DESCRIPTION)
    half_life_hours: StrictHalfLifeHours | None = Field(
        default=DEFAULT_HALF_LIFE_HOURS, description=HALF_LIFE_DESCRIPTION
    )
    new_deal_prior: NewDealPrior = Field(
        default=DEFAULT_NEW_DEAL_PRIOR, description=NEW_DEAL_PRIOR_DESCRIPTION
    )
    currency: Currency = Field(default=DEFAULT_CURRENCY, description="ISO 4217: deals' prices")
    bandits: list[DealIn] = Field(default_factory=list, max_length=MAX_DEALS_PER_REQUEST)


class ProjectPatch(Patch):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "paused"},
                {"project_name": "Hot Deals, week 49", "slots": 4, "policy": "ucb1"},
                {"status": "ended", "winner_bandit_id": 1},
                {"ends_at": "2026-12-20T23:59:59+01:00", "min_duration_days": 7},
                {"half_life_hours": 72, "new_deal_prior": "empirical"},
                {"objective": "revenue", "position_correction": False},
            ]
        }
    )

    nullable: ClassVar[frozenset[str]] = frozenset(
        {"project_description", "starts_at", "ends_at", "half_life_hours"}
    )

    project_name: Name | None = None
    project_description: Description | None = None
    policy: PolicyName | None = None
    epsilon: StrictEpsilon | None = None
    slots: StrictSlots | None = None
    min_prob_best: StrictMinProbBest | None = None
    min_impressions: StrictMinImpressions | None = None
    max_relative_loss: StrictMaxRelativeLoss | None = None
    min_duration_days: StrictMinDurationDays | None = None
    starts_at: StrictStartsAt | None = None
    ends_at: StrictEndsAt | None = Field(default=None, description="null removes the end")
    end_action: EndAction | None = None
    position_correction: StrictBool | None = None
    objective: Objective | None = Field(
        default=None,
        description=OBJECTIVE_DESCRIPTION + ". A change takes effect at once: every counter "
        "is kept whatever the objective",
    )
    half_life_hours: StrictHalfLifeHours | None = Field(
        default=None,
        description=HALF_LIFE_DESCRIPTION + "; null turns forgetting off. A change rebuilds the "
        "discounted state from the log",
    )
    new_deal_prior: NewDealPrior | None = Field(
        default=None, description=NEW_DEAL_PRIOR_DESCRIPTION
    )
    currency: Currency | None = None
    status: ProjectStatus | None = Field(
        default=None, description="running, paused or ended (final)"
    )
    winner_bandit_id: StrictId | None = Field(
        default=None,
        description="only with status 'ended': the strip then rolls the winner out (slot 1, "
        "then the rest by posterior mean); ending without one stops ranking",
    )


class ProjectOut(BaseModel):
    """Read from a ``Project`` row with ``context={"now": ...}``: ``effective_status`` is what
    rank does at that moment (:func:`project_view`)."""

    model_config = ConfigDict(from_attributes=True)

    project_id: int
    project_name: str
    project_description: str | None
    number_of_bandits: int
    status: ProjectStatus = Field(description="as stored: running, paused or ended")
    effective_status: EffectiveStatus = Field(
        description="what rank does now: scheduled (before starts_at), running, paused, rollout "
        "(ended with a winner, or past ends_at with end_action 'rollout') or ended"
    )
    policy: PolicyName
    epsilon: float
    slots: int
    prior_alpha: float
    prior_beta: float
    min_prob_best: float
    min_impressions: int
    max_relative_loss: float
    min_duration_days: float
    starts_at: datetime | None
    ends_at: datetime | None
    end_action: EndAction
    position_correction: bool
    objective: Objective
    half_life_hours: float | None
    new_deal_prior: NewDealPrior
    currency: str
    winner_bandit_id: int | None
    created_at: datetime
    ended_at: datetime | None

    @model_validator(mode="before")
    @classmethod
    def _effective_status(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict) or info.context is None:
            return data
        values = {name: getattr(data, name) for name in cls.model_fields if hasattr(data, name)}
        values["effective_status"] = project_status(data, info.context["now"])
        return values


ProjectT = TypeVar("ProjectT", bound=ProjectOut)


def project_view(model: type[ProjectT], project: object, now: datetime) -> ProjectT:
    """``model`` of a ``Project`` row, its ``effective_status`` as of ``now``."""
    return model.model_validate(project, context={"now": now})


T = TypeVar("T")


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
