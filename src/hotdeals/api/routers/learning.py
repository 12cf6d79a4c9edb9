"""The shop's two calls: rank the deals for a customer, report a click. Open, no personal data.

Both are rate-limited (:mod:`hotdeals.http.rate_limit`): rank per client address and per
customer, click per client address; over a limit they answer 429 with ``Retry-After``.

These are the busiest routes, so they serialise their response models once
(``model_dump_json``) instead of letting FastAPI validate and encode them again; the
``response_model`` still documents them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response

from hotdeals.api.params import NoQuery, ProjectId, TransactionId
from hotdeals.api.responses import errors
from hotdeals.api.schemas import ClickOut, RankedDealOut, RankIn, RankOut
from hotdeals.http.deps import StateDep
from hotdeals.http.errors import ERROR_SCHEMA
from hotdeals.http.rate_limit import ClickPerIp, RankPerIp, limit_rank_per_customer
from hotdeals.http.request_log import arrival
from hotdeals.vocabulary import MAX_IDEMPOTENCY_KEY

router = APIRouter(prefix="/api", tags=["learning loop"])

TOO_MANY: dict[int | str, dict[str, Any]] = {
    429: {
        "description": "Too many requests from this client address or for this customer; "
        "retry after the seconds in Retry-After",
        "headers": {
            "Retry-After": {
                "description": "Seconds until the limit's window frees",
                "schema": {"type": "integer"},
            }
        },
        "content": {"application/json": {"schema": ERROR_SCHEMA}},
    }
}


@router.post(
    "/projects/{project_id}/rank",
    response_model=RankOut,
    summary="Rank the deals for a customer and log the impressions",
    responses=errors(404, 409, 413, 503) | TOO_MANY,
    dependencies=[NoQuery, RankPerIp],
)
async def rank(
    request: Request,
    project_id: ProjectId,
    body: RankIn,
    state: StateDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=MAX_IDEMPOTENCY_KEY,
            description="A retry with the same key returns the same deals and logs nothing twice",
        ),
    ] = None,
) -> Response:
    """Orders the running campaign's active deals by its policy (Thompson sampling by default)
    and returns the top k, each with the `transaction_id` to report a click on. 409 when the
    campaign is paused or ended, or has no active deal; 429 past the rate limits (per client
    address, per customer)."""
    await limit_rank_per_customer(request, body.customer_id)
    result = await state.learning.rank(
        project_id,
        body.customer_id,
        k=body.k,
        idempotency_key=idempotency_key,
        arrived=arrival(request),
    )
    answer = RankOut(
        project_id=result.project_id,
        customer_id=result.customer_id,
        deals=[
            RankedDealOut(
                position=d.position,
                bandit_id=d.bandit_id,
                bandit_name=d.bandit_name,
                transaction_id=d.transaction_id,
            )
            for d in result.deals
        ],
    )
    return Response(answer.model_dump_json(), media_type="application/json")


@router.post(
    "/transactions/{transaction_id}/click",
    response_model=ClickOut,
    summary="Report a click on a shown deal",
    responses=errors(404, 413, 503) | TOO_MANY,
    dependencies=[NoQuery, ClickPerIp],
)
async def click(request: Request, transaction_id: TransactionId, state: StateDep) -> Response:
    """Idempotent: the first click counts, a repeated one changes nothing and says
    `already_recorded: true`. 429 past the rate limit per client address."""
    outcome = await state.learning.click(transaction_id, arrived=arrival(request))
    answer = ClickOut(
        transaction_id=outcome.transaction_id,
        bandit_id=outcome.bandit_id,
        already_recorded=outcome.already_recorded,
    )
    return Response(answer.model_dump_json(), media_type="application/json")
