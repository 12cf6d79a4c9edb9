"""The shop's calls: rank the deals for a visitor, report a click by its token; and the same
by customer and by transaction id for a shop's backend holding the admin token.

Open (no token, no personal data): rank by ``visitor_id``, ``POST /api/clicks`` with a rank's
``click_token`` (:mod:`hotdeals.services.click_tokens`: a script cannot click impressions it
never received), and ``GET /api/projects/current``. With the admin token: rank by
``customer_id`` (ids never reach a browser) and click by transaction id (back-office imports).
All are rate-limited (:mod:`hotdeals.http.rate_limit`): per client address, per customer (a
visitor is a customer row), and new visitors per address; over a limit 429 with ``Retry-After``.

These are the busiest routes, so they refuse query strings, read the app state and count their
per-address limits inline (each dependency costs FastAPI a resolution per request: together
~30 us, measured), read their bodies with one pydantic call
(:func:`~hotdeals.api.params.json_body`) and serialise their response models once
(``model_dump_json``) instead of letting FastAPI validate and encode them again; the
``response_model`` still documents them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response

from hotdeals.api.learning_schemas import (
    ClickIn,
    ClickOut,
    CurrentProjectOut,
    RankedDealOut,
    RankIn,
    RankOut,
)
from hotdeals.api.params import (
    NoQuery,
    ProjectId,
    TransactionId,
    body_doc,
    json_body,
    no_query,
)
from hotdeals.api.responses import errors
from hotdeals.db.counters import ClickOutcome
from hotdeals.errors import ProjectNotFound
from hotdeals.http.auth import AdminDep, bearer, require_admin
from hotdeals.http.deps import StateDep, app_state
from hotdeals.http.errors import ERROR_SCHEMA
from hotdeals.http.rate_limit import (
    ClickPerIp,
    limit_click_per_customer,
    limit_click_per_ip,
    limit_new_visitor_per_ip,
    limit_rank_per_customer,
    limit_rank_per_ip,
)
from hotdeals.http.request_log import arrival
from hotdeals.http.state import AppState
from hotdeals.services import projects
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


@router.get(
    "/projects/current",
    response_model=CurrentProjectOut,
    summary="The campaign a page shows when it names none",
    responses=errors(404, 422),
    dependencies=[NoQuery],
)
def current_project(state: StateDep) -> CurrentProjectOut:
    """`HOTDEALS_STOREFRONT_PROJECT` if set, else the newest campaign that is running or
    rolling out its winner; 404 when there is none. Open: a shop's page asks it before
    ranking."""
    with state.sessions() as session:
        project = projects.current_project(session, state.settings.hotdeals_storefront_project)
        if project is None:
            raise ProjectNotFound("no campaign to show: none is running")
        return CurrentProjectOut(
            project_id=project.project_id,
            project_name=project.project_name,
            currency=project.currency,
            slots=project.slots,
        )


async def _customer_of(request: Request, state: AppState, body: RankIn) -> int:
    """The customer to rank for: the admin-only ``customer_id``, or the visitor's row."""
    if body.customer_id is not None:
        await require_admin(request, await bearer(request))
        return body.customer_id
    assert body.visitor_id is not None  # RankIn requires exactly one of the two
    known = state.visitors.cached(body.visitor_id)
    if known is not None:
        return known
    await limit_new_visitor_per_ip(request)
    return await state.visitors.customer_id(body.visitor_id)


@router.post(
    "/projects/{project_id}/rank",
    response_model=RankOut,
    summary="Rank the deals for a visitor (or, with the admin token, a customer)",
    responses=errors(401, 404, 409, 413, 422, 503) | TOO_MANY,
    openapi_extra=body_doc(RankIn),
)
async def rank(
    request: Request,
    project_id: ProjectId,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=MAX_IDEMPOTENCY_KEY,
            description="One per page view: a retry with the same key returns the same deals "
            "and logs nothing twice",
        ),
    ] = None,
) -> Response:
    """Orders the running campaign's active deals by its policy (Thompson sampling by default),
    logs the top k as impressions and returns them with what a page shows (name, description,
    price in the campaign's currency, emoji, picture) and one `click_token` per deal for
    `POST /api/clicks`. A `visitor_id` (open) becomes a customer row on first sight; a
    `customer_id` needs the admin token (401 without). 409 when the campaign is paused or ended,
    or has no active deal; 429 past the rate limits."""
    no_query(request)
    state = app_state(request)
    await limit_rank_per_ip(request)
    body = await json_body(request, RankIn)
    customer_id = await _customer_of(request, state, body)
    await limit_rank_per_customer(request, customer_id)
    result = await state.learning.rank(
        project_id,
        customer_id,
        k=body.k,
        idempotency_key=idempotency_key,
        arrived=arrival(request),
    )
    tokens = state.click_tokens
    answer = RankOut(
        project_id=result.project_id,
        visitor_id=body.visitor_id,
        customer_id=body.customer_id,
        deals=[
            RankedDealOut(
                position=d.position,
                bandit_id=d.bandit_id,
                bandit_name=d.bandit_name,
                transaction_id=d.transaction_id,
                click_token=tokens.issue(d.transaction_id, customer_id),
                description=d.display.description,
                price=d.display.price,
                currency=result.currency,
                emoji=d.display.emoji,
                image_url=d.display.image_url,
            )
            for d in result.deals
        ],
    )
    return Response(answer.model_dump_json(), media_type="application/json")


def _clicked(outcome: ClickOutcome) -> Response:
    answer = ClickOut(
        transaction_id=outcome.transaction_id,
        bandit_id=outcome.bandit_id,
        already_recorded=outcome.already_recorded,
    )
    return Response(answer.model_dump_json(), media_type="application/json")


@router.post(
    "/clicks",
    response_model=ClickOut,
    summary="Report a click on a shown deal, by its click token",
    responses=errors(400, 404, 410, 413, 422, 503) | TOO_MANY,
    openapi_extra=body_doc(ClickIn),
)
async def click(request: Request) -> Response:
    """Idempotent: the first click counts, a repeated one changes nothing and says
    `already_recorded: true`. 400 when the token is not one of this service's (edited,
    truncated, another deployment's), 410 when it has expired (`HOTDEALS_CLICK_TOKEN_TTL_S`,
    24 h by default), 404 when its impression does not exist here; none of them counts anything.
    429 past the rate limits (per client address, per customer)."""
    no_query(request)
    state = app_state(request)
    await limit_click_per_ip(request)
    body = await json_body(request, ClickIn)
    claim = state.click_tokens.redeem(body.token)
    await limit_click_per_customer(request, claim.customer_id)
    return _clicked(await state.learning.click(claim.transaction_id, arrived=arrival(request)))


@router.post(
    "/transactions/{transaction_id}/click",
    response_model=ClickOut,
    summary="Report a click by transaction id (admin: back-office imports)",
    responses=errors(401, 404, 413, 503) | TOO_MANY,
    dependencies=[NoQuery, AdminDep, ClickPerIp],
)
async def click_by_id(request: Request, transaction_id: TransactionId, state: StateDep) -> Response:
    """The same click as `POST /api/clicks`, for a shop's backend that logged the transaction
    ids (imports, server-side pages); needs the admin token, so no outsider can click ids."""
    return _clicked(await state.learning.click(transaction_id, arrived=arrival(request)))
