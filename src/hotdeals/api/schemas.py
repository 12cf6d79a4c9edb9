"""Request and response bodies of the HTTP contract (DESIGN.md), with their limits.

Every request model forbids unknown fields and bounds every string and number, so a client
learns from a 422 which field broke which limit instead of the server storing something odd.
ORM models and these schemas are separate classes on purpose: the wire format can stay stable
while the tables grow.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    model_validator,
)

from hotdeals.api.params import MAX_ID

MAX_K = 20
MAX_SLOTS = 20
MAX_DEALS_PER_REQUEST = 100

# Control characters have no place in a name (and PostgreSQL cannot store NUL at all); a
# description may keep its line breaks and tabs.
Name = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$",
    ),
]
Description = Annotated[
    str, Field(max_length=5000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")
]
PolicyName = Literal["thompson", "ucb1", "epsilon_greedy", "uniform"]
Status = Literal["running", "paused", "ended"]
Price = Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2)]
Emoji = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[^\s\x00-\x1f\x7f]+$")]
ImageUrl = Annotated[str, Field(max_length=2000, pattern=r"^https?://\S+$")]
Id = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
Prior = Annotated[StrictFloat, Field(gt=0, le=1e6)]


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


class UserIn(Request):
    email: EmailStr = Field(max_length=320, examples=["ann@example.com"])
    name: Name = Field(examples=["Ann Shopper"])


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    customer_id: int
    email: str
    name: str


class DealIn(Request):
    bandit_name: Name = Field(examples=["Strawberries 2 for 1"])
    description: Description | None = Field(default=None, examples=["Dutch, 500 g punnets"])
    price: Price | None = Field(default=None, examples=["3.49"])
    emoji: Emoji | None = Field(default=None, examples=["🍓"])
    image_url: ImageUrl | None = None
    active: StrictBool = True


class DealPatch(Patch):
    nullable: ClassVar[frozenset[str]] = frozenset({"description", "price", "emoji", "image_url"})

    bandit_name: Name | None = None
    description: Description | None = None
    price: Price | None = None
    emoji: Emoji | None = None
    image_url: ImageUrl | None = None
    active: StrictBool | None = Field(default=None, description="false deactivates the deal")


class BanditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    bandit_id: int
    project_id: int
    bandit_name: str
    description: str | None
    price: Decimal | None
    emoji: str | None
    image_url: str | None
    active: bool
    alpha: float
    beta: float
    n: int
    number_of_success: int
    number_of_failures: int
    created_at: datetime


class ProjectIn(Request):
    project_name: Name = Field(examples=["Hot Deals, week 48"])
    project_description: Description | None = None
    policy: PolicyName = "thompson"
    epsilon: StrictFloat = Field(default=0.1, ge=0, le=1, description="for epsilon_greedy")
    slots: StrictInt = Field(default=3, ge=1, le=MAX_SLOTS, description="deals shown per page")
    prior_alpha: Prior = 1.0
    prior_beta: Prior = 1.0
    min_prob_best: StrictFloat = Field(default=0.95, gt=0.5, le=1, description="winner rule")
    min_impressions: StrictInt = Field(default=100, ge=0, le=10**9, description="winner rule")
    bandits: list[DealIn] = Field(default_factory=list, max_length=MAX_DEALS_PER_REQUEST)


class ProjectPatch(Patch):
    nullable: ClassVar[frozenset[str]] = frozenset({"project_description"})

    project_name: Name | None = None
    project_description: Description | None = None
    policy: PolicyName | None = None
    epsilon: StrictFloat | None = Field(default=None, ge=0, le=1)
    slots: StrictInt | None = Field(default=None, ge=1, le=MAX_SLOTS)
    min_prob_best: StrictFloat | None = Field(default=None, gt=0.5, le=1)
    min_impressions: StrictInt | None = Field(default=None, ge=0, le=10**9)
    status: Status | None = Field(default=None, description="running, paused or ended (final)")
    winner_bandit_id: Id | None = Field(default=None, description="only with status 'ended'")


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    project_id: int
    project_name: str
    project_description: str | None
    number_of_bandits: int
    status: Status
    policy: PolicyName
    epsilon: float
    slots: int
    prior_alpha: float
    prior_beta: float
    min_prob_best: float
    min_impressions: int
    winner_bandit_id: int | None
    created_at: datetime
    ended_at: datetime | None


class ProjectDetail(ProjectOut):
    bandits: list[BanditOut]


class RankIn(Request):
    customer_id: Id = Field(examples=[1])
    k: StrictInt | None = Field(
        default=None,
        ge=1,
        le=MAX_K,
        description=f"deals wanted (1-{MAX_K}); default the project's slots, capped at the "
        "number of active deals",
    )


class RankedDealOut(BaseModel):
    position: int
    bandit_id: int
    bandit_name: str
    transaction_id: int


class RankOut(BaseModel):
    project_id: int
    customer_id: int
    deals: list[RankedDealOut]


class ClickOut(BaseModel):
    transaction_id: int
    bandit_id: int
    clicked: Literal[True] = True
    already_recorded: bool = Field(description="true when an earlier click was already counted")


class DealStatsOut(BaseModel):
    bandit_id: int
    bandit_name: str
    active: bool
    impressions: int
    clicks: int
    ctr: float
    posterior_mean: float
    ci_low: float = Field(description="95% equal-tailed credible interval, lower end")
    ci_high: float
    prob_best: float | None = Field(description="among active deals; null when deactivated")
    expected_loss: float | None
    share_last_24h: float


class WinnerOut(BaseModel):
    bandit_id: int
    bandit_name: str
    prob_best: float


class StatsOut(BaseModel):
    project_id: int
    bandits: list[DealStatsOut]
    winner: WinnerOut | None


class SeriesPointOut(BaseModel):
    bucket_start: datetime
    bandit_id: int
    impressions: int
    clicks: int


class TimeSeriesOut(BaseModel):
    project_id: int
    bucket: Literal["hour", "day"]
    points: list[SeriesPointOut]


T = TypeVar("T")


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
