"""The shop's home page (``/``) with its "Hot Deals" strip, and its four small forms.

Every page view asks the learning loop for a fresh ranking (``state.learning.rank``: the same
call as ``POST /api/projects/{id}/rank``), and "Add to basket" reports the click on that
impression, either from the page's script (``POST /api/transactions/{id}/click``) or, without
JavaScript, through ``POST /basket`` which calls ``state.learning.click``. Nothing here decides
which deal to show; signing in is :mod:`hotdeals.services.users`'s. The forms and the ranking
are rate-limited (:mod:`.throttle`): past a limit the answer is a 429 page with Retry-After.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from hotdeals.errors import (
    ClickTokenExpired,
    DuplicateEmail,
    HotDealsError,
    InvalidRequest,
    NoActiveDeals,
    NotFound,
    ProjectNotFound,
    ProjectNotRunning,
    UserNotFound,
)
from hotdeals.http.deps import StateDep
from hotdeals.http.request_log import arrival
from hotdeals.http.state import AppState
from hotdeals.services import users
from hotdeals.vocabulary import MAX_EMAIL, MAX_NAME
from hotdeals.web.cookies import Visit, forget_customer
from hotdeals.web.errors import ShowPage
from hotdeals.web.forms import BasketForm, CustomerForm, ShopForm, parse_id, posted_csrf
from hotdeals.web.rendering import problem as problem_page
from hotdeals.web.rendering import redirect, render
from hotdeals.web.shelf import (
    BASKET_FAILED,
    BUSY,
    NO_DEALS,
    NOT_FOUND,
    UNAVAILABLE,
    DealCard,
    Notice,
    card,
    load_visit,
)
from hotdeals.web.throttle import basket_limits, guest_per_ip, rank_refusal, signin_per_ip

router = APIRouter(include_in_schema=False)


def home_url(project_id: int | None, **params: int | str | None) -> str:
    """The home page, on the campaign the shopper asked for (if any), with a notice code."""
    query: dict[str, int | str] = {"project": project_id} if project_id is not None else {}
    query.update({k: v for k, v in params.items() if v is not None})
    return "/" + (f"?{urlencode(query)}" if query else "")


def requested_project(text: str | None) -> int | None:
    """The ``project`` a form sends back, so the shopper stays on the same campaign."""
    return parse_id(text) if text else None


# Who is visiting --------------------------------------------------------------------------


async def visitor(request: Request, state: StateDep) -> Visit:
    return Visit(request, state)


async def form_visitor(request: Request, state: StateDep) -> Visit:
    """The visitor who sent a form we rendered for them; any other form gets a 403 page."""
    visit = Visit(request, state)
    if not visit.form_ok(await posted_csrf(request)):
        response = problem_page(
            "This form has expired",
            "For your safety we only accept forms sent from this shop's own pages. "
            "Please go back, reload the page and try again.",
            403,
            back_url="/",
            back_label="Back to the shop",
        )
        raise ShowPage(visit.finish(response, signed_in=visit.customer_id is not None))
    return visit


VisitDep = Annotated[Visit, Depends(visitor)]
FormVisit = Annotated[Visit, Depends(form_visitor)]


# The page ---------------------------------------------------------------------------------


async def storefront(
    request: Request,
    state: AppState,
    visit: Visit,
    project: str | None,
    *,
    added: int | None = None,
    warning: Notice | None = None,
    signin_errors: list[str] | None = None,
    signin_values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """Render the home page; ranks (and so logs impressions) only for a known shopper."""
    shelf, shopper = await run_in_threadpool(load_visit, state, project, visit.customer_id)
    shown: list[DealCard] = []
    retry_after = None
    if shopper is not None and shelf.project_id is not None and shelf.notice is None:
        retry_after = await rank_refusal(request, shopper.customer_id)
        if retry_after is not None:
            shelf.notice, shelf.status_code = BUSY, 429
    if shopper is not None and shelf.project_id is not None and shelf.notice is None:
        try:
            ranking = await state.learning.rank(
                shelf.project_id, shopper.customer_id, arrived=arrival(request)
            )
        except UserNotFound:
            shopper = None
        except ProjectNotFound:
            shelf.notice, shelf.status_code = NOT_FOUND, 404
        except ProjectNotRunning:
            shelf.notice = UNAVAILABLE
        except NoActiveDeals:
            shelf.notice = NO_DEALS
        else:
            for deal in ranking.deals:
                base = shelf.cards.get(deal.bandit_id) or card(deal.bandit_id, deal.bandit_name)
                token = state.click_tokens.issue(deal.transaction_id, shopper.customer_id)
                shown.append(
                    replace(
                        base,
                        position=deal.position,
                        transaction_id=deal.transaction_id,
                        click_token=token,
                    )
                )
    flash = None
    if added is not None:
        name = shelf.cards[added].name if added in shelf.cards else "That deal"
        flash = f"{name} is in your basket."
    response = render(
        "storefront.html",
        {
            "shopper": shopper,
            "greeting": visit.greeting,
            "deals": shown,
            "notice": shelf.notice,
            "problem": warning,
            "flash": flash,
            "project_id": shelf.project_id if project is not None else None,
            "csrf": visit.csrf,
            "signin_errors": signin_errors or [],
            "signin_values": signin_values or {"email": "", "name": ""},
        },
        status_code=status_code if status_code != 200 else shelf.status_code,
    )
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return visit.finish(response, signed_in=shopper is not None)


@router.get("/")
async def home(
    request: Request,
    state: StateDep,
    visit: VisitDep,
    project: str | None = None,
    added: str | None = None,
    problem: str | None = None,
) -> Response:
    """The shop's home page. Every load is a new ranking: reloading shows a fresh pick."""
    return await storefront(
        request,
        state,
        visit,
        project,
        added=parse_id(added),
        warning=BASKET_FAILED if problem == "basket" else None,
    )


# Signing in and out -----------------------------------------------------------------------


def sign_in(state: AppState, email: str, name: str) -> int:
    """The customer with this email, created if new (see :func:`users.sign_in_by_email`)."""
    with state.sessions.begin() as session:
        return users.sign_in_by_email(session, email, name).customer_id


def sign_in_problems(refusal: HotDealsError) -> list[str]:
    """What the page says for each refusal of a sign-in, one line per problem."""
    match refusal:
        case users.EmailMissing():
            return ["Please enter your email address."]
        case users.NameMissing():
            return ["Welcome! Please tell us your name so we can create your account."]
        case users.CustomerInvalid(problems=problems):
            return [("Email: " if f == "email" else "Name: ") + why for f, why in problems]
        case _:
            return ["Please try again."]


@router.post("/signin", dependencies=[Depends(signin_per_ip)])
async def signin(
    request: Request, state: StateDep, visit: FormVisit, form: Annotated[CustomerForm, Form()]
) -> Response:
    """Sign in by email; a new email becomes a new customer with the name given. The page then
    greets with the name typed here (or neutrally), never with the stored one: the demo has no
    passwords, so anyone may type anyone's email."""
    project_id = requested_project(form.project)
    try:
        customer_id = await run_in_threadpool(sign_in, state, form.email, form.name)
    except (users.SignInRefused, DuplicateEmail) as refusal:
        return await storefront(
            request,
            state,
            visit,
            str(project_id) if project_id else None,
            signin_errors=sign_in_problems(refusal),
            signin_values={"email": form.email[:MAX_EMAIL], "name": form.name[:MAX_NAME]},
            status_code=400,
        )
    typed = form.name.strip()[:MAX_NAME]
    return visit.sign_in(redirect(home_url(project_id)), customer_id, typed)


def new_guest(state: AppState) -> int:
    with state.sessions.begin() as session:
        return users.create_guest(session).customer_id


@router.post("/guest", dependencies=[Depends(guest_per_ip)])
async def guest(state: StateDep, visit: FormVisit, form: Annotated[ShopForm, Form()]) -> Response:
    """Continue without an account: a guest customer of our own, so ranking still learns."""
    customer_id = await run_in_threadpool(new_guest, state)
    return visit.sign_in(redirect(home_url(requested_project(form.project))), customer_id)


@router.post("/signout", dependencies=[Depends(form_visitor)])
async def signout(form: Annotated[ShopForm, Form()]) -> Response:
    response = redirect(home_url(requested_project(form.project)))
    forget_customer(response)
    return response


# The basket -------------------------------------------------------------------------------


@router.post("/basket", dependencies=[Depends(basket_limits), Depends(form_visitor)])
async def basket(
    request: Request, state: StateDep, form: Annotated[BasketForm, Form()]
) -> Response:
    """ "Add to basket" without JavaScript: the same click as the API's, then back to the shop."""
    project_id = requested_project(form.project)
    try:
        claim = state.click_tokens.redeem(form.token)
        outcome = await state.learning.click(claim.transaction_id, arrived=arrival(request))
    except (InvalidRequest, ClickTokenExpired, NotFound):  # a token not ours, old, or unknown
        return redirect(home_url(project_id, problem="basket"))
    return redirect(home_url(project_id, added=outcome.bandit_id))
