"""The shop's home page (``/``) with its "Hot Deals" strip, and its four small forms.

Every page view asks the learning loop for a fresh ranking (``state.learning.rank``: the same
call as ``POST /api/projects/{id}/rank``), and "Add to basket" reports the click on that
impression, either from the page's script (``POST /api/transactions/{id}/click``) or, without
JavaScript, through ``POST /basket`` which calls ``state.learning.click``. Nothing here decides
which deal to show.
"""

from __future__ import annotations

import secrets
import zlib
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from hotdeals.api.deps import StateDep
from hotdeals.api.params import MAX_TRANSACTION_ID
from hotdeals.api.schemas import UserIn
from hotdeals.api.state import AppState
from hotdeals.db.models import Project
from hotdeals.errors import (
    DuplicateEmail,
    NoActiveDeals,
    NotFound,
    ProjectNotFound,
    ProjectNotRunning,
    UserNotFound,
)
from hotdeals.services import projects, users
from hotdeals.web.cookies import Visit, forget_customer
from hotdeals.web.forms import parse_id
from hotdeals.web.rendering import fmt_price, redirect, render

router = APIRouter(include_in_schema=False)

GUEST_DOMAIN = "guest.invalid"  # RFC 2606: can never be a real mailbox
GUEST_NAME = "Guest"
TILES = 6  # pale backgrounds behind a deal's picture (site.css: .tile-0 ... .tile-5)

FormField = Annotated[str, Form()]


@dataclass(frozen=True, slots=True)
class Notice:
    """A message in place of the deals; ``tone`` picks its colour."""

    title: str
    text: str
    tone: str = "info"


NOT_FOUND = Notice(
    "We couldn't find those deals", "The link may be old. Our other aisles are open."
)
NO_DEALS = Notice("No hot deals right now", "Come back soon: new deals arrive every week.")
PAUSED = Notice("These deals are paused — come back soon", "Everything else in the shop is open.")
ENDED = Notice(
    "This week's hot deals have ended", "Thanks for shopping with us! New deals arrive soon."
)
UNAVAILABLE = Notice("These deals aren't available right now", "Please come back in a moment.")
BASKET_FAILED = Notice(
    "We couldn't add that to your basket", "That offer has expired; please try again.", "warning"
)


@dataclass(frozen=True, slots=True)
class Shopper:
    customer_id: int
    name: str
    guest: bool


@dataclass(frozen=True, slots=True)
class DealCard:
    """One deal as the page shows it; ``transaction_id`` is the impression to click on."""

    bandit_id: int
    name: str
    description: str
    price: str
    emoji: str | None
    image_url: str | None
    initials: str
    tile: int
    position: int = 0
    transaction_id: int = 0


@dataclass
class Shelf:
    """The campaign the page shows, or why it shows none."""

    project_id: int | None = None
    running: bool = False
    cards: dict[int, DealCard] = field(default_factory=dict)
    notice: Notice | None = None
    status_code: int = 200


def initials(name: str) -> str:
    words = [w for w in name.replace("-", " ").split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def card(
    bandit_id: int,
    name: str,
    description: str | None = None,
    *,
    price: Decimal | None = None,
    emoji: str | None = None,
    image_url: str | None = None,
) -> DealCard:
    return DealCard(
        bandit_id=bandit_id,
        name=name,
        description=description or "",
        price=fmt_price(price),
        emoji=emoji or None,
        # Only web addresses: a stored "javascript:" or "data:" URL never reaches a src.
        image_url=image_url if (image_url or "").startswith(("https://", "http://")) else None,
        initials=initials(name),
        tile=zlib.crc32(name.encode()) % TILES,  # stable: the same deal, the same tile
    )


def _shelf_of(project: Project) -> Shelf:
    cards = {
        b.bandit_id: card(
            b.bandit_id,
            b.bandit_name,
            b.description,
            price=b.price,
            emoji=b.emoji,
            image_url=b.image_url,
        )
        for b in project.bandits
    }
    shelf = Shelf(project.project_id, project.status == "running", cards)
    if project.status == "paused":
        shelf.notice = PAUSED
    elif project.status == "ended":
        shelf.notice = ENDED
    elif not any(b.active for b in project.bandits):
        shelf.notice = NO_DEALS
    return shelf


def load_shelf(state: AppState, requested: str | None) -> Shelf:
    """``?project=ID``, else the configured storefront project, else the newest running one."""
    with state.sessions() as session:
        if requested is not None:
            project_id = parse_id(requested)
            if project_id is None:
                return Shelf(notice=NOT_FOUND, status_code=404)
            try:
                return _shelf_of(projects.get_project(session, project_id))
            except ProjectNotFound:
                return Shelf(notice=NOT_FOUND, status_code=404)
        configured = state.settings.hotdeals_storefront_project
        if configured is not None:
            try:
                return _shelf_of(projects.get_project(session, configured))
            except ProjectNotFound:
                return Shelf(notice=NO_DEALS)
        newest = projects.list_projects(session, limit=1, offset=0, status="running").items
        if not newest:
            return Shelf(notice=NO_DEALS)
        return _shelf_of(projects.get_project(session, newest[0].project_id))


def load_shopper(state: AppState, customer_id: int | None) -> Shopper | None:
    """The signed-in customer, or None (no cookie, or a customer that no longer exists)."""
    if customer_id is None:
        return None
    with state.sessions() as session:
        try:
            user = users.get_user(session, customer_id)
        except UserNotFound:
            return None
        return Shopper(user.customer_id, user.name, user.email.endswith("@" + GUEST_DOMAIN))


def load_visit(
    state: AppState, requested: str | None, customer_id: int | None
) -> tuple[Shelf, Shopper | None]:
    """Both reads of a page view in one trip to a worker thread."""
    return load_shelf(state, requested), load_shopper(state, customer_id)


def home_url(project_id: int | None, **params: int | str | None) -> str:
    """The home page, on the campaign the shopper asked for (if any), with a notice code."""
    query: dict[str, int | str] = {"project": project_id} if project_id is not None else {}
    query.update({k: v for k, v in params.items() if v is not None})
    return "/" + (f"?{urlencode(query)}" if query else "")


def requested_project(text: str | None) -> int | None:
    """The ``project`` a form sends back, so the shopper stays on the same campaign."""
    return parse_id(text) if text else None


def forbidden(visit: Visit) -> Response:
    response = render(
        "problem.html",
        {
            "title": "This form has expired",
            "text": "For your safety we only accept forms sent from this shop's own pages. "
            "Please go back, reload the page and try again.",
            "back_url": "/",
            "back_label": "Back to the shop",
        },
        status_code=403,
    )
    return visit.finish(response, signed_in=visit.customer_id is not None)


async def storefront(
    state: AppState,
    visit: Visit,
    project: str | None,
    *,
    added: int | None = None,
    problem: Notice | None = None,
    signin_errors: list[str] | None = None,
    signin_values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """Render the home page; ranks (and so logs impressions) only for a known shopper."""
    shelf, shopper = await run_in_threadpool(load_visit, state, project, visit.customer_id)
    shown: list[DealCard] = []
    if shopper is not None and shelf.project_id is not None and shelf.notice is None:
        try:
            ranking = await state.learning.rank(shelf.project_id, shopper.customer_id)
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
                shown.append(
                    replace(base, position=deal.position, transaction_id=deal.transaction_id)
                )
    flash = None
    if added is not None:
        name = shelf.cards[added].name if added in shelf.cards else "That deal"
        flash = f"{name} is in your basket."
    response = render(
        "storefront.html",
        {
            "shopper": shopper,
            "deals": shown,
            "notice": shelf.notice,
            "problem": problem,
            "flash": flash,
            "project_id": shelf.project_id if project is not None else None,
            "csrf": visit.csrf,
            "signin_errors": signin_errors or [],
            "signin_values": signin_values or {"email": "", "name": ""},
        },
        status_code=status_code if status_code != 200 else shelf.status_code,
    )
    return visit.finish(response, signed_in=shopper is not None)


@router.get("/")
async def home(
    request: Request,
    state: StateDep,
    project: str | None = None,
    added: str | None = None,
    problem: str | None = None,
) -> Response:
    """The shop's home page. Every load is a new ranking: reloading shows a fresh pick."""
    visit = Visit(request, state)
    return await storefront(
        state,
        visit,
        project,
        added=parse_id(added),
        problem=BASKET_FAILED if problem == "basket" else None,
    )


@router.post("/signin")
async def signin(
    request: Request,
    state: StateDep,
    csrf: FormField = "",
    email: FormField = "",
    name: FormField = "",
    project: FormField = "",
) -> Response:
    """Sign in by email; a new email becomes a new customer with the name given."""
    visit = Visit(request, state)
    if not visit.form_ok(csrf):
        return forbidden(visit)
    project_id = requested_project(project)
    outcome = await run_in_threadpool(find_or_create_customer, state, email, name)
    if isinstance(outcome, list):
        return await storefront(
            state,
            visit,
            str(project_id) if project_id else None,
            signin_errors=outcome,
            signin_values={"email": email[:320], "name": name[:200]},
            status_code=400,
        )
    response = redirect(home_url(project_id))
    return visit.sign_in(response, outcome)


def find_or_create_customer(state: AppState, email: str, name: str) -> int | list[str]:
    """The customer with this email, created if new; or what is wrong with the form."""
    if not email.strip():
        return ["Please enter your email address."]
    with state.sessions.begin() as session:
        existing = users.find_user_by_email(session, email[:320])
        if existing is not None:
            return existing.customer_id
        if not name.strip():
            return ["Welcome! Please tell us your name so we can create your account."]
        try:
            body = UserIn.model_validate({"email": email, "name": name})
        except ValidationError as exc:
            return [
                ("Email: " if e["loc"] and e["loc"][0] == "email" else "Name: ") + e["msg"]
                for e in exc.errors()
            ]
        try:
            return users.create_user(session, str(body.email), body.name).customer_id
        except DuplicateEmail:  # someone signed up with it a moment ago
            again = users.find_user_by_email(session, str(body.email))
            return again.customer_id if again is not None else ["Please try again."]


def create_guest(state: AppState) -> int:
    with state.sessions.begin() as session:
        email = f"guest-{secrets.token_hex(8)}@{GUEST_DOMAIN}"
        return users.create_user(session, email, GUEST_NAME).customer_id


@router.post("/guest")
async def guest(
    request: Request, state: StateDep, csrf: FormField = "", project: FormField = ""
) -> Response:
    """Continue without an account: a guest customer of our own, so ranking still learns."""
    visit = Visit(request, state)
    if not visit.form_ok(csrf):
        return forbidden(visit)
    customer_id = await run_in_threadpool(create_guest, state)
    response = redirect(home_url(requested_project(project)))
    return visit.sign_in(response, customer_id)


@router.post("/signout")
async def signout(
    request: Request, state: StateDep, csrf: FormField = "", project: FormField = ""
) -> Response:
    visit = Visit(request, state)
    if not visit.form_ok(csrf):
        return forbidden(visit)
    response = redirect(home_url(requested_project(project)))
    forget_customer(response)
    return response


@router.post("/basket")
async def basket(
    request: Request,
    state: StateDep,
    csrf: FormField = "",
    transaction_id: FormField = "",
    project: FormField = "",
) -> Response:
    """ "Add to basket" without JavaScript: the same click as the API's, then back to the shop."""
    visit = Visit(request, state)
    if not visit.form_ok(csrf):
        return forbidden(visit)
    project_id = requested_project(project)
    tid = parse_id(transaction_id, MAX_TRANSACTION_ID)
    if tid is None:
        return redirect(home_url(project_id, problem="basket"))
    try:
        outcome = await state.learning.click(tid)
    except NotFound:  # TransactionNotFound: an impression we never logged
        return redirect(home_url(project_id, problem="basket"))
    return redirect(home_url(project_id, added=outcome.bandit_id))
