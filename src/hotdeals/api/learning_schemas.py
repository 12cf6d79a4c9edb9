"""The bodies of the shop's calls: rank (by visitor or by customer) and click (by token or id).

A rank answer carries everything a page needs to draw the strip (names, prices in the
campaign's currency, pictures) and one click token per deal, so a shop's page needs no other
call and no admin token to show deals and report clicks.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hotdeals.api.schemas import Request
from hotdeals.api.wire_types import StrictId, StrictK
from hotdeals.vocabulary import MAX_K, VisitorId

# A token is an id, a time and a signature: far shorter than this; longer is not one of ours.
MAX_CLICK_TOKEN = 200


class RankIn(Request):
    """Exactly one of ``visitor_id`` (open: a page's anonymous visitor) and ``customer_id``
    (the admin token: a shop's backend that knows its signed-in customers)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"visitor_id": "v-7f3c9a1e"}, {"customer_id": 1, "k": 2}]}
    )

    visitor_id: VisitorId | None = Field(default=None, examples=["v-7f3c9a1e"])
    customer_id: StrictId | None = Field(
        default=None, description="needs the admin token", examples=[1]
    )
    k: StrictK | None = Field(
        default=None,
        description=f"deals wanted (1-{MAX_K}); default the project's slots, capped at the "
        "number of active deals",
    )

    @model_validator(mode="after")
    def _one_identity(self) -> RankIn:
        if (self.visitor_id is None) == (self.customer_id is None):
            raise ValueError("give exactly one of visitor_id and customer_id")
        return self


class RankedDealOut(BaseModel):
    position: int = Field(description="1 is the first slot")
    bandit_id: int
    bandit_name: str
    transaction_id: int = Field(description="the impression logged for this deal")
    click_token: str = Field(description="send it to POST /api/clicks when this deal is clicked")
    description: str | None
    price: Decimal | None = Field(description="in the campaign's currency")
    currency: str = Field(description="the campaign's ISO 4217 currency")
    emoji: str | None
    image_url: str | None


class RankOut(BaseModel):
    project_id: int
    visitor_id: str | None = Field(description="as asked; null when ranked by customer_id")
    customer_id: int | None = Field(description="as asked; null when ranked by visitor_id")
    deals: list[RankedDealOut]


class ClickIn(Request):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"token": "42-7.aw55Zw.hJ1zaXRVfMX-mOcFxMMTq8e14"}]}
    )

    token: str = Field(
        min_length=1,
        max_length=MAX_CLICK_TOKEN,
        description="a deal's click_token from the rank answer",
    )


class ClickOut(BaseModel):
    transaction_id: int
    bandit_id: int
    clicked: Literal[True] = True
    already_recorded: bool = Field(description="true when an earlier click was already counted")


class CurrentProjectOut(BaseModel):
    """The campaign a page should show when it names none."""

    project_id: int
    project_name: str
    currency: str
    slots: int
