"""The cookies of one request, read and written in one place so their flags never drift.

* ``hd_visitor``: a random nonce that binds the CSRF token of the forms a visitor sees before
  signing in (storefront forms, the dashboard's sign-in). HttpOnly, SameSite=Lax.
* ``hd_customer``: the signed customer id of the shop. HttpOnly, SameSite=Lax (a shopper who
  follows a link to the shop stays signed in), 30 days.
* ``hd_greeting``: the name the shopper typed at sign-in, signed and bound to ``hd_customer``
  (same flags and lifetime): the greeting shows what they typed, never the stored name.
* ``hd_admin``: the analyst's signed session. HttpOnly, SameSite=Strict, path ``/admin``,
  12 hours; it never holds the admin token.

``Secure`` is set when the request came over HTTPS (directly or, with ``--proxy-headers``,
through a proxy that says so), so a browser never sends these cookies in clear.
"""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from hotdeals.http.state import AppState
from hotdeals.web import security

ADMIN_PATH = "/admin"


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


class Visit:
    """A visitor of the shop or of the sign-in page: who they are and their form token."""

    def __init__(self, request: Request, state: AppState) -> None:
        self.key = security.signing_key(state)
        self.secure = is_https(request)
        raw = request.cookies.get(security.CUSTOMER_COOKIE)
        self.customer_id = security.customer_from_cookie(self.key, raw)
        self.had_customer_cookie = raw is not None
        self.greeting = security.greeting_from_cookie(
            self.key, request.cookies.get(security.GREETING_COOKIE), self.customer_id
        )
        self.visitor = request.cookies.get(security.VISITOR_COOKIE) or ""
        self.new_visitor = not (16 <= len(self.visitor) <= 100)
        if self.new_visitor:
            self.visitor = security.new_visitor_nonce()

    @property
    def csrf(self) -> str:
        return security.csrf_token(self.key, self.visitor)

    def form_ok(self, token: str) -> bool:
        """A form we rendered for this very visitor (a fresh visitor has sent no form of ours)."""
        return not self.new_visitor and security.csrf_ok(self.key, self.visitor, token)

    def finish(self, response: Response, *, signed_in: bool) -> Response:
        """Keep the visitor nonce; drop a customer cookie that no longer names a customer."""
        if self.new_visitor:
            response.set_cookie(
                security.VISITOR_COOKIE,
                self.visitor,
                path="/",
                secure=self.secure,
                httponly=True,
                samesite="lax",
            )
        if self.had_customer_cookie and not signed_in:
            forget_customer(response)
        return response

    def sign_in(self, response: Response, customer_id: int, typed_name: str = "") -> Response:
        """Sign the customer in; ``typed_name`` (what they typed now, if anything) greets them."""
        response.set_cookie(
            security.CUSTOMER_COOKIE,
            security.customer_cookie(self.key, customer_id),
            max_age=security.CUSTOMER_TTL,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )
        if typed_name:
            response.set_cookie(
                security.GREETING_COOKIE,
                security.greeting_cookie(self.key, customer_id, typed_name),
                max_age=security.CUSTOMER_TTL,
                path="/",
                secure=self.secure,
                httponly=True,
                samesite="lax",
            )
        else:
            response.delete_cookie(
                security.GREETING_COOKIE, path="/", httponly=True, samesite="lax"
            )
        return response


def forget_customer(response: Response) -> None:
    for name in (security.CUSTOMER_COOKIE, security.GREETING_COOKIE):
        response.delete_cookie(name, path="/", httponly=True, samesite="lax")


class Admin:
    """The analyst's session, if any, and the CSRF token of the dashboard's forms."""

    def __init__(self, request: Request, state: AppState) -> None:
        self.key = security.signing_key(state)
        self.secure = is_https(request)
        self.enabled = state.admin_token is not None
        self.session = request.cookies.get(security.SESSION_COOKIE) or ""
        self.signed_in = self.enabled and security.admin_session_valid(
            self.key, self.session, security.now()
        )

    @property
    def csrf(self) -> str:
        return security.csrf_token(self.key, self.session) if self.signed_in else ""

    def form_ok(self, token: str) -> bool:
        return self.signed_in and security.csrf_ok(self.key, self.session, token)

    def start(self, response: Response) -> Response:
        response.set_cookie(
            security.SESSION_COOKIE,
            security.new_admin_session(self.key, security.now()),
            max_age=security.SESSION_TTL,
            path=ADMIN_PATH,
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )
        return response

    @staticmethod
    def end(response: Response) -> Response:
        response.delete_cookie(
            security.SESSION_COOKIE, path=ADMIN_PATH, httponly=True, samesite="strict"
        )
        return response
