"""The shop's purchase reports: by a rank's click token (open) or by transaction id (admin).

A purchase counts once per order and implies its impression's click
(:mod:`hotdeals.services.purchases` says why an open report is bounded by the deal's price).
Rate-limited as clicks are: per client address and, by token, per customer.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from hotdeals.api.params import NoQuery, TransactionId, body_doc, json_body, no_query
from hotdeals.api.purchase_schemas import PurchaseByIdIn, PurchaseIn, PurchaseOut
from hotdeals.api.responses import errors
from hotdeals.api.routers.learning import TOO_MANY
from hotdeals.db.purchases import PurchaseOutcome
from hotdeals.http.auth import AdminDep
from hotdeals.http.deps import StateDep, app_state
from hotdeals.http.rate_limit import ClickPerIp, limit_click_per_customer, limit_click_per_ip
from hotdeals.http.request_log import arrival
from hotdeals.services.purchases import PurchaseReport

router = APIRouter(prefix="/api", tags=["learning loop"])


def _report(body: PurchaseByIdIn) -> PurchaseReport:
    return PurchaseReport(body.value, body.quantity, body.currency, body.order_id)


def _answer(outcome: PurchaseOutcome) -> Response:
    answer = PurchaseOut(
        transaction_id=outcome.transaction_id,
        bandit_id=outcome.bandit_id,
        already_recorded=outcome.already_recorded,
        click_implied=outcome.click_implied,
        purchases=outcome.purchases,
        purchase_value=outcome.purchase_value,
    )
    return Response(answer.model_dump_json(), media_type="application/json")


@router.post(
    "/purchases",
    response_model=PurchaseOut,
    summary="Report a purchase of a shown deal, by its click token",
    responses=errors(400, 404, 410, 413, 422, 503) | TOO_MANY,
    openapi_extra=body_doc(PurchaseIn),
)
async def purchase(request: Request) -> Response:
    """Idempotent per order: an impression counts one purchase per `order_id` (one in all
    without it); a repeat changes nothing and says `already_recorded: true`. A purchase implies
    the click (`click_implied`). The value is at most the deal's price x `quantity`, and a deal
    without a price takes purchase reports only by transaction id with the admin token (400
    otherwise), so that nobody can steer a campaign with invented baskets; a `currency` other
    than the campaign's is 400. The token works for `HOTDEALS_PURCHASE_TOKEN_TTL_S` after the
    rank (7 days by default; 410 after). Nothing is counted by a refused report."""
    no_query(request)
    state = app_state(request)
    await limit_click_per_ip(request)
    body = await json_body(request, PurchaseIn)
    claim = state.click_tokens.redeem(body.token, purchase=True)
    await limit_click_per_customer(request, claim.customer_id)
    outcome = await state.learning.purchase(
        claim.transaction_id, _report(body), trusted=False, arrived=arrival(request)
    )
    return _answer(outcome)


@router.post(
    "/transactions/{transaction_id}/purchase",
    response_model=PurchaseOut,
    summary="Report a purchase by transaction id (admin: the shop's backend)",
    responses=errors(400, 401, 404, 413, 422, 503) | TOO_MANY,
    dependencies=[NoQuery, AdminDep, ClickPerIp],
    openapi_extra=body_doc(PurchaseByIdIn),
)
async def purchase_by_id(
    request: Request, transaction_id: TransactionId, state: StateDep
) -> Response:
    """The same report as `POST /api/purchases` for the shop's backend, trusted with any value
    (a deal without a price, a discount the price does not show); still one per order."""
    body = await json_body(request, PurchaseByIdIn)
    outcome = await state.learning.purchase(
        transaction_id, _report(body), trusted=True, arrived=arrival(request)
    )
    return _answer(outcome)
