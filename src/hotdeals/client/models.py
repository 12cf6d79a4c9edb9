"""What the client returns and sends: frozen dataclasses mirroring the API's JSON, field for field.

The client's own types, not the server's schemas: a shop's backend depends on this package alone.
Answers are read leniently (a field the server adds later is ignored), so an older client keeps
working against a newer server. Prices are ``Decimal`` (never floats) and times are aware
``datetime`` values in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Generic, Literal, TypedDict, TypeVar

ProjectStatus = Literal["running", "paused", "ended"]
Objective = Literal["click", "purchase", "revenue"]
Bucket = Literal["hour", "day"]

T = TypeVar("T")


# The learning loop ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RankedDeal:
    """One shown deal: what a page draws, and the ``click_token`` to report its click with."""

    position: int  # 1 is the first slot
    bandit_id: int
    bandit_name: str
    transaction_id: int  # the impression logged for this deal
    click_token: str
    description: str | None
    price: Decimal | None  # in ``currency``
    currency: str  # the campaign's ISO 4217 code
    emoji: str | None
    image_url: str | None


@dataclass(frozen=True, slots=True)
class Ranking:
    """A rank answer: the deals in slot order, for the visitor or the customer asked about."""

    project_id: int
    visitor_id: str | None
    customer_id: int | None
    deals: tuple[RankedDeal, ...]


@dataclass(frozen=True, slots=True)
class Click:
    """A click's receipt: ``already_recorded`` is true when an earlier click was counted."""

    transaction_id: int
    bandit_id: int
    already_recorded: bool


@dataclass(frozen=True, slots=True)
class Purchase:
    """A purchase's receipt: ``already_recorded`` when this order (or, without an order, the
    impression's one purchase) was counted before; ``click_implied`` when it also counted the
    click. ``purchases`` and ``purchase_value`` are the impression's totals so far."""

    transaction_id: int
    bandit_id: int
    already_recorded: bool
    click_implied: bool
    purchases: int
    purchase_value: Decimal


@dataclass(frozen=True, slots=True)
class CurrentProject:
    """The campaign a page shows when it names none."""

    project_id: int
    project_name: str
    currency: str
    slots: int


# Management ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewDeal:
    """A deal to create; a plain string is accepted wherever a ``NewDeal`` is, as its name."""

    bandit_name: str
    description: str | None = None
    price: Decimal | None = None
    emoji: str | None = None
    image_url: str | None = None
    active: bool = True


@dataclass(frozen=True, slots=True)
class Deal:
    """A campaign's deal (an arm) with its posterior and counters."""

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


@dataclass(frozen=True, slots=True)
class Project:
    """A campaign as listed (without its deals)."""

    project_id: int
    project_name: str
    project_description: str | None
    number_of_bandits: int
    status: ProjectStatus
    policy: str
    epsilon: float
    slots: int
    prior_alpha: float
    prior_beta: float
    min_prob_best: float
    min_impressions: int
    currency: str
    winner_bandit_id: int | None
    created_at: datetime
    ended_at: datetime | None
    objective: Objective  # what the campaign learns from: clicks, purchases or revenue


@dataclass(frozen=True, slots=True)
class ProjectDetail(Project):
    """A campaign with its deals (the answer of create, get and update)."""

    bandits: tuple[Deal, ...]


@dataclass(frozen=True, slots=True)
class User:
    customer_id: int
    email: str
    name: str


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing; ``total`` counts every item, not only this page's."""

    items: tuple[T, ...]
    total: int
    limit: int
    offset: int


class ProjectChanges(TypedDict, total=False):
    """What ``update_project`` may change; absent keys stay as they are."""

    project_name: str
    project_description: str | None
    policy: str
    epsilon: float
    slots: int
    min_prob_best: float
    min_impressions: int
    currency: str
    objective: Objective  # refused (400) beside settings that read clicks alone: see docs/api.md
    status: ProjectStatus  # running <-> paused, either to ended (final)
    winner_bandit_id: int  # only with status "ended"


class DealChanges(TypedDict, total=False):
    """What ``update_deal`` may change; ``None`` clears description, price, emoji, image_url."""

    bandit_name: str
    description: str | None
    price: Decimal | str | None
    emoji: str | None
    image_url: str | None
    active: bool  # false deactivates the deal (its history stays)


# Analytics ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DealStats:
    bandit_id: int
    bandit_name: str
    active: bool
    impressions: int
    clicks: int
    ctr: float
    posterior_mean: float
    ci_low: float  # 95% equal-tailed credible interval
    ci_high: float
    prob_best: float | None  # among active deals; None when deactivated
    expected_loss: float | None
    share_last_24h: float


@dataclass(frozen=True, slots=True)
class Winner:
    bandit_id: int
    bandit_name: str
    prob_best: float
    chosen: bool  # named by the analyst on ending the campaign (else found by the winner rule)


@dataclass(frozen=True, slots=True)
class Stats:
    project_id: int
    bandits: tuple[DealStats, ...]
    winner: Winner | None


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    bucket_start: datetime
    bandit_id: int
    impressions: int
    clicks: int


@dataclass(frozen=True, slots=True)
class TimeSeries:
    project_id: int
    bucket: Bucket
    points: tuple[SeriesPoint, ...]
