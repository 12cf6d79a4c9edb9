"""The bodies of a deal's own calls: its changes (PATCH) and how it reads back (counters and
its own prior included), alone or in its campaign's detail."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from hotdeals.api.schemas import Patch, ProjectOut
from hotdeals.api.wire_types import StrictBool, StrictEndsAt, StrictStartsAt
from hotdeals.vocabulary import Description, Emoji, ImageUrl, Name, Price


class DealPatch(Patch):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"price": "2.99", "description": "Dutch, 500 g punnets"},
                {"active": False},
            ]
        }
    )

    nullable: ClassVar[frozenset[str]] = frozenset(
        {"description", "price", "emoji", "image_url", "starts_at", "ends_at"}
    )

    bandit_name: Name | None = None
    description: Description | None = None
    price: Price | None = None
    emoji: Emoji | None = None
    image_url: ImageUrl | None = None
    active: StrictBool | None = Field(default=None, description="false deactivates the deal")
    starts_at: StrictStartsAt | None = None
    ends_at: StrictEndsAt | None = Field(default=None, description="null removes the end")


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
    starts_at: datetime | None = Field(description="ranked only inside [starts_at, ends_at)")
    ends_at: datetime | None
    alpha: float
    beta: float
    prior_alpha: float = Field(
        description="the deal's own prior: the campaign's, or an empirical-Bayes one fitted to "
        "the campaign's other deals when it was added (new_deal_prior 'empirical')"
    )
    prior_beta: float
    n: int
    number_of_success: int
    number_of_failures: int
    created_at: datetime


class ProjectDetail(ProjectOut):
    """A campaign with its deals."""

    bandits: list[BanditOut]
