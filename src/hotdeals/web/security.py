"""Cookies and form tokens of the pages: who is signed in, and that a form really came from us.

Everything is stateless and signed with HMAC-SHA256, so any number of workers agree on a cookie
without sharing memory or a table:

* the **signing key** is derived from ``HOTDEALS_ADMIN_TOKEN`` (never the token itself), so
  rotating the token signs every analyst and customer out at once;
* the **admin session** cookie holds an issue time, a random nonce and their signature: no
  secret, nothing to replay once it expires (:data:`SESSION_TTL`);
* the **customer** cookie holds a customer id and its signature, so nobody can edit the id to
  see another customer's name;
* **CSRF tokens** are the signature of the cookie they travel with (the admin session after
  sign-in, a random visitor nonce before): a cross-site form cannot read our cookies, so it
  cannot know the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

from hotdeals.api.state import AppState

SESSION_COOKIE = "hd_admin"
CUSTOMER_COOKIE = "hd_customer"
VISITOR_COOKIE = "hd_visitor"

SESSION_TTL = 12 * 3600
CUSTOMER_TTL = 30 * 24 * 3600
CLOCK_SKEW = 60  # seconds a session may seem to come from the future (workers' clocks differ)

# Without an admin token (an app embedded without `hotdeals serve`, which always sets one) the
# pages still work in this one process; the dashboard itself stays closed.
_PROCESS_KEY = secrets.token_bytes(32)


def signing_key(state: AppState) -> bytes:
    """The key of every signature; a one-way function of the admin token."""
    token = state.admin_token
    if token is None:
        return _PROCESS_KEY
    return hmac.new(token.encode(), b"hotdeals web signing key v1", hashlib.sha256).digest()


def sign(key: bytes, purpose: str, message: str) -> str:
    """A URL- and cookie-safe signature; ``purpose`` keeps one kind of token from passing as
    another (a customer cookie is never a valid CSRF token)."""
    digest = hmac.new(key, f"{purpose}\x00{message}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def signature_ok(key: bytes, purpose: str, message: str, signature: str) -> bool:
    """Constant-time check, so timing reveals nothing about the expected signature."""
    return secrets.compare_digest(sign(key, purpose, message).encode(), signature.encode())


def now() -> int:
    return int(time.time())


# Admin sessions ---------------------------------------------------------------------------


def new_admin_session(key: bytes, issued_at: int) -> str:
    """``<issued>.<nonce>.<signature>``: the nonce makes every session value unique."""
    body = f"{issued_at}.{secrets.token_urlsafe(12)}"
    return f"{body}.{sign(key, 'admin-session', body)}"


def admin_session_valid(key: bytes, value: str | None, at: int) -> bool:
    """A well-formed, correctly signed session issued less than :data:`SESSION_TTL` ago."""
    if not value or len(value) > 200:
        return False
    body, _, signature = value.rpartition(".")
    issued, _, nonce = body.partition(".")
    if not (issued.isdigit() and nonce and signature):
        return False
    if not signature_ok(key, "admin-session", body, signature):
        return False
    return -CLOCK_SKEW <= at - int(issued) < SESSION_TTL


# Customers --------------------------------------------------------------------------------


def customer_cookie(key: bytes, customer_id: int) -> str:
    return f"{customer_id}.{sign(key, 'customer', str(customer_id))}"


def customer_from_cookie(key: bytes, value: str | None) -> int | None:
    """The signed customer id, or None for a missing, malformed or forged cookie."""
    if not value or len(value) > 100:
        return None
    customer, _, signature = value.partition(".")
    if not (customer.isdigit() and signature):
        return None
    if not signature_ok(key, "customer", customer, signature):
        return None
    return int(customer)


# CSRF -------------------------------------------------------------------------------------


def new_visitor_nonce() -> str:
    return secrets.token_urlsafe(16)


def csrf_token(key: bytes, binding: str) -> str:
    """The token a form carries, bound to the cookie that identifies its sender."""
    return sign(key, "csrf", binding)


def csrf_ok(key: bytes, binding: str | None, token: str) -> bool:
    return bool(binding) and bool(token) and signature_ok(key, "csrf", binding or "", token)
