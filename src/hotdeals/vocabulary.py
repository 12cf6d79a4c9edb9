"""The service's one vocabulary: every name list, limit and constrained type, defined once.

The API's schemas, the dashboard's forms, the CLI and the services all validate with these, so a
value one of them refuses is refused by all, for the same reason and with the same limit. The
limits are also the columns' sizes (``hotdeals.db.models``), so a value that passes is storable.
Policy names, objectives and the sources of a new deal's prior belong to the bandit maths
(``PolicyName``, ``Objective``, ``NewDealPrior`` of :mod:`hotdeals.bandit`) and are re-exported
here so that callers have one place to look.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Final

from pydantic import AwareDatetime, Field

from hotdeals.bandit import NewDealPrior, Objective, PolicyName

__all__ = [
    "DEFAULT_CURRENCY",
    "DEFAULT_END_ACTION",
    "DEFAULT_EPSILON",
    "DEFAULT_HALF_LIFE_HOURS",
    "DEFAULT_MAX_RELATIVE_LOSS",
    "DEFAULT_MIN_DURATION_DAYS",
    "DEFAULT_MIN_IMPRESSIONS",
    "DEFAULT_MIN_PROB_BEST",
    "DEFAULT_NEW_DEAL_PRIOR",
    "DEFAULT_OBJECTIVE",
    "DEFAULT_POLICY",
    "DEFAULT_POSITION_CORRECTION",
    "DEFAULT_PRIOR",
    "DEFAULT_SLOTS",
    "MAX_DEALS_PER_REQUEST",
    "MAX_DESCRIPTION",
    "MAX_EMAIL",
    "MAX_EMOJI",
    "MAX_HALF_LIFE_HOURS",
    "MAX_ID",
    "MAX_IDEMPOTENCY_KEY",
    "MAX_IMAGE_URL",
    "MAX_K",
    "MAX_MIN_DURATION_DAYS",
    "MAX_MIN_IMPRESSIONS",
    "MAX_NAME",
    "MAX_OFFSET",
    "MAX_ORDER_ID",
    "MAX_PAGE",
    "MAX_PRICE",
    "MAX_PRIOR",
    "MAX_QUANTITY",
    "MAX_SLOTS",
    "MAX_TRANSACTION_ID",
    "MAX_VISITOR_ID",
    "PRICE_DECIMALS",
    "PRICE_DIGITS",
    "VALUE_DIGITS",
    "VISITOR_EMAIL_DOMAIN",
    "Currency",
    "Description",
    "EffectiveStatus",
    "Emoji",
    "EndAction",
    "EndsAt",
    "Epsilon",
    "HalfLifeHours",
    "Id",
    "ImageUrl",
    "MaxRelativeLoss",
    "MinDurationDays",
    "MinImpressions",
    "MinProbBest",
    "Name",
    "NewDealPrior",
    "Objective",
    "OrderId",
    "PolicyName",
    "Price",
    "Prior",
    "ProjectStatus",
    "PurchaseValue",
    "Quantity",
    "Slots",
    "StartsAt",
    "VisitorId",
]


class ProjectStatus(StrEnum):
    """A campaign's life cycle: running <-> paused, and either to ended (final)."""

    RUNNING = "running"
    PAUSED = "paused"
    ENDED = "ended"


class EffectiveStatus(StrEnum):
    """What rank does now, from the stored status, the winner and the campaign's schedule.

    ``scheduled``: running but before its ``starts_at`` (rank refuses); ``rollout``: ended with
    a winner, or past its ``ends_at`` with ``end_action = rollout`` (rank shows the winner first,
    then the rest by posterior mean, no exploration); ``ended``: ended without a winner, or past
    its ``ends_at`` with ``end_action = stop`` (rank refuses).
    """

    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    ROLLOUT = "rollout"
    ENDED = "ended"


class EndAction(StrEnum):
    """What a running campaign does once its ``ends_at`` has passed."""

    STOP = "stop"
    ROLLOUT = "rollout"


# Ids: what an INTEGER (customers, projects, deals) and a BIGINT (transactions) column holds.
MAX_ID: Final = 2**31 - 1
MAX_TRANSACTION_ID: Final = 2**63 - 1

# Text: the columns' sizes.
MAX_NAME: Final = 200
MAX_DESCRIPTION: Final = 5000
MAX_EMOJI: Final = 16
MAX_IMAGE_URL: Final = 2000
MAX_EMAIL: Final = 320  # RFC 3696's longest address
MAX_IDEMPOTENCY_KEY: Final = 200
MAX_VISITOR_ID: Final = 128
# Visitors are users rows without personal data: their NOT NULL email is a reserved placeholder
# in this domain (RFC 6761's .invalid never resolves), which sign-up refuses.
VISITOR_EMAIL_DOMAIN: Final = "visitors.invalid"

# Prices: NUMERIC(10, 2).
PRICE_DIGITS: Final = 10
PRICE_DECIMALS: Final = 2
MAX_PRICE: Final = Decimal("99999999.99")
# Purchases: a purchase's value (price x quantity) and the sums kept of them, NUMERIC(14, 2).
VALUE_DIGITS: Final = 14
MAX_QUANTITY: Final = 10_000
MAX_ORDER_ID: Final = 200

# Campaign settings.
MAX_SLOTS: Final = 20
MAX_K: Final = 20
MAX_PRIOR: Final = 1e6
MAX_MIN_IMPRESSIONS: Final = 10**9
MAX_MIN_DURATION_DAYS: Final = 366.0
MAX_DEALS_PER_REQUEST: Final = 100
DEFAULT_CURRENCY: Final = "EUR"
DEFAULT_POLICY: Final = PolicyName.THOMPSON
DEFAULT_EPSILON: Final = 0.1
DEFAULT_SLOTS: Final = 3
DEFAULT_PRIOR: Final = 1.0
DEFAULT_MIN_PROB_BEST: Final = 0.95
DEFAULT_MIN_IMPRESSIONS: Final = 100
# The winner rule's second condition: the leader's expected loss below this share of its own
# posterior CTR (docs/simulation.md measures both thresholds).
DEFAULT_MAX_RELATIVE_LOSS: Final = 0.0025
DEFAULT_MIN_DURATION_DAYS: Final = 0.0
DEFAULT_END_ACTION: Final = EndAction.STOP
# Rank slates by position-corrected posteriors: in simulation (docs/positions.md) it cut
# confidently wrong winners from 25-29% to 2-6% and regret by 11-17% at no measurable cost
# without a position effect. A campaign of one slot has nothing to correct.
DEFAULT_POSITION_CORRECTION: Final = True
# Forgetting is off unless a campaign sets a half-life (docs/simulation.md: it costs regret on a
# campaign whose deals do not change, and a shop knows when its deals change).
DEFAULT_HALF_LIFE_HOURS: Final[float | None] = None
MAX_HALF_LIFE_HOURS: Final = 24.0 * 366
DEFAULT_NEW_DEAL_PRIOR: Final = NewDealPrior.CAMPAIGN
# What rank maximises per impression: clicks unless a campaign asks for purchases or revenue
# (docs/api.md, "Objectives"; docs/simulation.md measures what revenue earns over clicks).
DEFAULT_OBJECTIVE: Final = Objective.CLICK

# Pages of a listing.
MAX_PAGE: Final = 500
MAX_OFFSET: Final = 1_000_000_000

# Control characters have no place in a name (and PostgreSQL cannot store NUL at all); a
# description may keep its line breaks and tabs.
Name = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_NAME,
        pattern=r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$",
    ),
]
Description = Annotated[
    str, Field(max_length=MAX_DESCRIPTION, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")
]
Price = Annotated[Decimal, Field(ge=0, max_digits=PRICE_DIGITS, decimal_places=PRICE_DECIMALS)]
Emoji = Annotated[str, Field(min_length=1, max_length=MAX_EMOJI, pattern=r"^[^\s\x00-\x1f\x7f]+$")]
# A purchase: its total value (> 0, a sum of prices, so it may exceed one price's digits), how
# many items, and the shop's order id (visible characters, as a name).
PurchaseValue = Annotated[
    Decimal, Field(gt=0, max_digits=VALUE_DIGITS - 2, decimal_places=PRICE_DECIMALS)
]
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY, strict=True)]
OrderId = Annotated[
    str, Field(min_length=1, max_length=MAX_ORDER_ID, pattern=r"^[^\s\x00-\x1f\x7f]+$")
]
ImageUrl = Annotated[str, Field(max_length=MAX_IMAGE_URL, pattern=r"^https?://\S+$")]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# An ISO 4217 code's shape: three capital letters ("EUR", "GBP"); the list itself changes over
# time and is not ours to keep, so an unassigned code such as "ZZZ" passes.
Currency = Annotated[
    str, Field(min_length=3, max_length=3, pattern=r"^[A-Z]{3}$", description="ISO 4217 code")
]
# Chosen by the shop or by the strip, opaque to us: visible ASCII only (no spaces, no controls).
VisitorId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_VISITOR_ID,
        pattern=r"^[\x21-\x7e]+$",
        description=f"the shop's or the strip's opaque id of an anonymous visitor "
        f"(1-{MAX_VISITOR_ID} visible ASCII characters)",
    ),
]
Slots = Annotated[
    int, Field(ge=1, le=MAX_SLOTS, description=f"deals shown per page (1-{MAX_SLOTS})")
]
Epsilon = Annotated[float, Field(ge=0, le=1, description="exploration rate of epsilon_greedy")]
Prior = Annotated[float, Field(gt=0, le=MAX_PRIOR)]
MinProbBest = Annotated[float, Field(gt=0.5, le=1, description="winner rule: P(best) needed")]
MinImpressions = Annotated[
    int,
    Field(ge=0, le=MAX_MIN_IMPRESSIONS, description="winner rule: impressions of the winner"),
]
MaxRelativeLoss = Annotated[
    float,
    Field(
        ge=0,
        lt=1,
        description="winner rule: or the leader's expected loss below this share of its CTR "
        "(0 turns this condition off)",
    ),
]
MinDurationDays = Annotated[
    float,
    Field(
        ge=0,
        le=MAX_MIN_DURATION_DAYS,
        description="winner rule: days the campaign must have run (e.g. 7 for a weekly cycle)",
    ),
]
HalfLifeHours = Annotated[
    float,
    Field(
        gt=0,
        le=MAX_HALF_LIFE_HOURS,
        description="forgetting: hours after which a click or an impression counts half in the "
        "posteriors rank samples from (null: never forget)",
        examples=[72.0],
    ),
]
# Schedules: half-open windows [starts_at, ends_at) with an explicit zone (a naive time would be
# read in the server's zone, which a shop in another one cannot see).
StartsAt = Annotated[
    AwareDatetime,
    Field(
        description="ISO 8601 with a zone; the window is [starts_at, ends_at)",
        examples=["2026-12-07T00:00:00+01:00"],
    ),
]
EndsAt = Annotated[
    AwareDatetime,
    Field(description="ISO 8601 with a zone (exclusive)", examples=["2026-12-13T23:59:59+01:00"]),
]
