"""The bodies of a purchase report: by click token (open, bounded by the deal's price) or by
transaction id (admin), and what the report did."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from hotdeals.api.learning_schemas import MAX_CLICK_TOKEN
from hotdeals.api.schemas import Request
from hotdeals.vocabulary import MAX_QUANTITY, Currency, OrderId, PurchaseValue, Quantity


class PurchaseByIdIn(Request):
    """A purchase reported by the shop's backend, which knows the impression's id."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"value": "3.49"}, {"value": "6.98", "quantity": 2, "order_id": "A-1042"}]
        }
    )

    value: PurchaseValue = Field(
        description="the purchase's total in the campaign's currency (> 0, two decimals); "
        "by click token at most the deal's price x quantity",
        examples=["3.49"],
    )
    quantity: Quantity = Field(default=1, description=f"items bought (1-{MAX_QUANTITY})")
    currency: Currency | None = Field(
        default=None, description="must be the campaign's when given (ISO 4217)"
    )
    order_id: OrderId | None = Field(
        default=None,
        description="the shop's order: an impression counts one purchase per order, so a "
        "repeated report changes nothing; without it, one purchase per impression",
    )


class PurchaseIn(PurchaseByIdIn):
    """A purchase reported by the page or the checkout with the deal's click token."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"token": "42-7.aw55Zw.hJ1zaXRVfMX-mOcFxMMTq8e14", "value": "3.49"},
                {
                    "token": "42-7.aw55Zw.hJ1zaXRVfMX-mOcFxMMTq8e14",
                    "value": "6.98",
                    "quantity": 2,
                    "currency": "EUR",
                    "order_id": "A-1042",
                },
            ]
        }
    )

    token: str = Field(
        min_length=1,
        max_length=MAX_CLICK_TOKEN,
        description="the deal's click_token from the rank answer",
    )


class PurchaseOut(BaseModel):
    transaction_id: int
    bandit_id: int
    already_recorded: bool = Field(
        description="true when this purchase (this order, or the impression's one purchase "
        "without an order) was already counted: nothing changed"
    )
    click_implied: bool = Field(
        description="true when this purchase also counted the impression's click (a purchase "
        "implies it)"
    )
    purchases: int = Field(description="the impression's purchases counted so far")
    purchase_value: Decimal = Field(description="their total value, in the campaign's currency")
