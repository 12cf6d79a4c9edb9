"""The shop's home page (``/``), whose Hot Deals are our own ``<hot-deals>`` strip, and its forms.

The page draws everything but the deals itself: the header, signing in or continuing as a guest,
the notices of :mod:`.shelf` (paused, ended, no deals, not found), perks and footer. Where the
deals go it puts the embeddable strip (:mod:`.embed`) with the signed-in customer's visitor id
(:func:`hotdeals.services.visitors.visitor_id_for`): the strip ranks and reports clicks through
the open API, the one code path for showing deals, within the API's rate limits. Nothing here
ranks or clicks. Sign-ins and new guests are rate-limited per address (:mod:`.throttle`).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from hotdeals.errors import DuplicateEmail, HotDealsError
from hotdeals.http.deps import StateDep
from hotdeals.http.state import AppState
from hotdeals.services import users
from hotdeals.vocabulary import MAX_EMAIL, MAX_NAME
from hotdeals.web.cookies import Visit, forget_customer
from hotdeals.web.embed import script_path
from hotdeals.web.errors import ShowPage
from hotdeals.web.forms import CustomerForm, ShopForm, parse_id, posted_csrf
from hotdeals.web.rendering import problem as problem_page
from hotdeals.web.rendering import redirect, render
from hotdeals.web.shelf import UNAVAILABLE, load_visit
from hotdeals.web.throttle import guest_per_ip, signin_per_ip

router = APIRouter(include_in_schema=False)


def home_url(project_id: int | None) -> str:
    """The home page, on the campaign the shopper asked for (if any)."""
    return "/" + (f"?{urlencode({'project': project_id})}" if project_id is not None else "")


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
    state: AppState,
    visit: Visit,
    project: str | None,
    *,
    signin_errors: list[str] | None = None,
    signin_values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """Render the home page: the strip for a signed-in shopper and an open campaign, else the
    notice or the invitation to sign in. Reads only (and a customer's visitor id, once)."""
    shelf, shopper = await run_in_threadpool(load_visit, state, project, visit.customer_id)
    response = render(
        "storefront.html",
        {
            "shopper": shopper,
            "greeting": visit.greeting,
            "strip": shelf if shopper is not None and shelf.open else None,
            "strip_script": script_path(),
            "unavailable": UNAVAILABLE,
            "notice": shelf.notice,
            "project_id": shelf.project_id if project is not None else None,
            "csrf": visit.csrf,
            "signin_errors": signin_errors or [],
            "signin_values": signin_values or {"email": "", "name": ""},
        },
        status_code=status_code if status_code != 200 else shelf.status_code,
    )
    return visit.finish(response, signed_in=shopper is not None)


@router.get("/")
async def home(state: StateDep, visit: VisitDep, project: str | None = None) -> Response:
    """The shop's home page. Each load is a new page view: the strip ranks afresh."""
    return await storefront(state, visit, project)


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
    state: StateDep, visit: FormVisit, form: Annotated[CustomerForm, Form()]
) -> Response:
    """Sign in by email; a new email becomes a new customer with the name given. The page then
    greets with the name typed here (or neutrally), never with the stored one: the demo has no
    passwords, so anyone may type anyone's email."""
    project_id = requested_project(form.project)
    try:
        customer_id = await run_in_threadpool(sign_in, state, form.email, form.name)
    except (users.SignInRefused, DuplicateEmail) as refusal:
        return await storefront(
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
