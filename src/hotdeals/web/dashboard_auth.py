"""Who may use the dashboard: its sign-in and sign-out, and the dependencies that let only a
signed-in analyst through (and, for a form, only with the CSRF token of their session).

Sign-in trades the admin token for a signed session cookie (:mod:`.cookies`). Each dependency
refuses with the answer the dashboard has always given (:class:`~hotdeals.web.errors.ShowPage`):
a page shows the sign-in form, the data feed answers 401 JSON, and a form a 401 page (signed
out) or a 403 page (forged or stale form) before anything else is read or changed. Wrong tokens
at the sign-in are counted per address with the API's
(``HOTDEALS_RATE_LIMIT_ADMIN_FAILURES_PER_IP``):
past the limit the answer is a 429 page; a right token is never refused.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from hotdeals.http.auth import token_matches
from hotdeals.http.deps import StateDep
from hotdeals.http.state import AppState
from hotdeals.web.cookies import Admin, Visit
from hotdeals.web.errors import ShowPage
from hotdeals.web.forms import SignInForm, posted_csrf
from hotdeals.web.rendering import json_response, problem, redirect, render
from hotdeals.web.throttle import admin_failure_page

router = APIRouter(prefix="/admin", include_in_schema=False)

SIGNED_OUT = "signed-out"  # the ``done`` code of the sign-out redirect


def problem_page(title: str, text: str, status_code: int) -> Response:
    """A dashboard problem page, with the way back to the dashboard."""
    return problem(title, text, status_code, back_url="/admin", back_label="Back to the dashboard")


def login_page(
    request: Request, state: AppState, *, error: str | None = None, status_code: int = 200
) -> Response:
    visit = Visit(request, state)
    signed_out = request.query_params.get("done") == SIGNED_OUT
    response = render(
        "admin_login.html",
        {
            "csrf": visit.csrf,
            "error": error,
            "enabled": state.admin_token is not None,
            "flash": "You are signed out." if signed_out else None,
            "admin_csrf": "",
        },
        status_code=status_code,
    )
    return visit.finish(response, signed_in=visit.customer_id is not None)


# Dependencies -----------------------------------------------------------------------------


async def page_admin(request: Request, state: StateDep) -> Admin:
    """The analyst looking at a page; anyone else sees the sign-in form instead."""
    admin = Admin(request, state)
    if not admin.signed_in:
        raise ShowPage(login_page(request, state))
    return admin


async def feed_admin(request: Request, state: StateDep) -> Admin:
    """The analyst whose open page polls the data feed; anyone else gets a 401."""
    admin = Admin(request, state)
    if not admin.signed_in:
        raise ShowPage(json_response({"detail": "sign in to the dashboard again"}, 401))
    return admin


async def require_form_token(request: Request, admin: Admin) -> None:
    """A 403 page unless the form carries the CSRF token of this analyst's session."""
    if not admin.form_ok(await posted_csrf(request)):
        raise ShowPage(
            problem_page(
                "This form has expired",
                "The dashboard only accepts forms from its own pages. "
                "Reload the page and try again.",
                403,
            )
        )


async def form_admin(request: Request, state: StateDep) -> Admin:
    """The analyst who sent this form: signed in (else a 401 page), with the form's token."""
    admin = Admin(request, state)
    if not admin.signed_in:
        raise ShowPage(
            problem_page(
                "Please sign in again",
                "Your dashboard session has expired or you are not signed in.",
                401,
            )
        )
    await require_form_token(request, admin)
    return admin


async def leaving_admin(request: Request, state: StateDep) -> None:
    """Who signs out: nobody signed in has nothing to end, but a signed-in analyst's form must
    carry its token, so that no other site can sign them out."""
    admin = Admin(request, state)
    if admin.signed_in:
        await require_form_token(request, admin)


async def signing_in_visitor(request: Request, state: StateDep) -> None:
    """The visitor who sent the sign-in form we gave them; any other form is a 403 page."""
    visit = Visit(request, state)
    if not visit.form_ok(await posted_csrf(request)):
        raise ShowPage(
            problem_page("This form has expired", "Reload the sign-in page and try again.", 403)
        )


PageAdmin = Annotated[Admin, Depends(page_admin)]
FeedAdmin = Annotated[Admin, Depends(feed_admin)]
FormAdmin = Annotated[Admin, Depends(form_admin)]


# Routes -----------------------------------------------------------------------------------


@router.post("/login", dependencies=[Depends(signing_in_visitor)])
async def login(request: Request, state: StateDep, form: Annotated[SignInForm, Form()]) -> Response:
    """Trade the admin token for a session cookie; a wrong token is refused with a message."""
    if not token_matches(state, form.token.strip()):
        refused = await admin_failure_page(request, ("/admin", "Back to the dashboard"))
        if refused is not None:
            return refused
        return login_page(
            request,
            state,
            error="That admin token is not right. Please try again.",
            status_code=401,
        )
    return Admin(request, state).start(redirect("/admin"))


@router.get("/login")
def login_form() -> Response:
    return redirect("/admin")


@router.post("/logout", dependencies=[Depends(leaving_admin)])
def logout() -> Response:
    """End the session and say so on the sign-in page."""
    return Admin.end(redirect(f"/admin?done={SIGNED_OUT}"))
