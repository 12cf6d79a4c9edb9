"""The pages' signed values: who is signed in, and that a form really came from us (itsdangerous).

Everything is stateless and signed with ``HOTDEALS_SECRET_KEY`` (HMAC-SHA256 through
itsdangerous), so any number of workers agree on a cookie without sharing memory or a table.
Rotating the key signs every analyst and customer out at once; the admin token is only the
password of the dashboard's sign-in and can be rotated on its own.

* the **admin session** cookie holds a random nonce, its issue time and their signature: no
  secret, nothing to replay once it expires (:data:`SESSION_TTL`);
* the **customer** cookie holds a customer id and its signature, so nobody can edit the id to
  act as another customer;
* the **greeting** cookie holds the name the visitor typed when signing in, bound to their
  customer id: the page greets with it and never with the stored name, so typing someone's
  email discloses nothing about them;
* **CSRF tokens** are the signature of the cookie they travel with (the admin session after
  sign-in, a random visitor nonce before): a cross-site form cannot read our cookies, so it
  cannot know the token.

Each kind of value has its own salt, so one can never pass as another. Time is passed in
(``issued_at``, ``at``), so tests need no clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import time

from itsdangerous import BadSignature, Signer, TimestampSigner

from hotdeals.http.state import AppState

SESSION_COOKIE = "hd_admin"
CUSTOMER_COOKIE = "hd_customer"
VISITOR_COOKIE = "hd_visitor"
GREETING_COOKIE = "hd_greeting"
GREETING_CHARS = 40  # a longer typed name is greeted by its first 40 characters

SESSION_TTL = 12 * 3600
CUSTOMER_TTL = 30 * 24 * 3600
MAX_COOKIE = 200  # longer values are not ours: refused before any signature is computed


def signing_key(state: AppState) -> bytes:
    """The key of every signature the pages make."""
    return state.secret_key


def now() -> int:
    return int(time.time())


class _SignerAt(TimestampSigner):
    """A timestamp signer whose clock is the ``at`` it is given."""

    def __init__(self, key: bytes, salt: str, at: int) -> None:
        super().__init__(key, salt=salt, digest_method=hashlib.sha256)
        self.at = at

    def get_timestamp(self) -> int:
        return self.at


def _signer(key: bytes, salt: str) -> Signer:
    return Signer(key, salt=salt, digest_method=hashlib.sha256)


# Admin sessions ---------------------------------------------------------------------------


def new_admin_session(key: bytes, issued_at: int) -> str:
    """``<nonce>.<issued>.<signature>``: the nonce makes every session value unique."""
    return _SignerAt(key, "admin-session", issued_at).sign(secrets.token_urlsafe(12)).decode()


def admin_session_valid(key: bytes, value: str | None, at: int) -> bool:
    """A well-formed, correctly signed session issued at most :data:`SESSION_TTL` ago and not
    in the future."""
    if not value or len(value) > MAX_COOKIE:
        return False
    try:
        _SignerAt(key, "admin-session", at).unsign(value, max_age=SESSION_TTL - 1)
    except BadSignature:  # SignatureExpired included
        return False
    return True


# Customers --------------------------------------------------------------------------------


def customer_cookie(key: bytes, customer_id: int) -> str:
    return _signer(key, "customer").sign(str(customer_id)).decode()


def customer_from_cookie(key: bytes, value: str | None) -> int | None:
    """The signed customer id, or None for a missing, malformed or forged cookie."""
    if not value or len(value) > MAX_COOKIE:
        return None
    try:
        customer = _signer(key, "customer").unsign(value).decode()
    except BadSignature:
        return None
    return int(customer) if customer.isascii() and customer.isdigit() else None


def greeting_cookie(key: bytes, customer_id: int, typed_name: str) -> str:
    """``<customer>.<name, base64url>.<signature>``: valid only beside that customer's cookie."""
    name = base64.urlsafe_b64encode(typed_name[:GREETING_CHARS].encode()).decode()
    return _signer(key, "greeting").sign(f"{customer_id}.{name}").decode()


def greeting_from_cookie(key: bytes, value: str | None, customer_id: int | None) -> str | None:
    """The name typed at this customer's sign-in, or None (no cookie, forged, another's)."""
    if customer_id is None or not value or len(value) > 2 * MAX_COOKIE:
        return None
    try:
        owner, _, name = _signer(key, "greeting").unsign(value).decode().partition(".")
        text = base64.urlsafe_b64decode(name.encode()).decode()
    except (BadSignature, binascii.Error, UnicodeDecodeError):
        return None
    return text if owner == str(customer_id) and text else None


# CSRF -------------------------------------------------------------------------------------


def new_visitor_nonce() -> str:
    return secrets.token_urlsafe(16)


def csrf_token(key: bytes, binding: str) -> str:
    """The token a form carries, bound to the cookie that identifies its sender."""
    return _signer(key, "csrf").get_signature(binding).decode()


def csrf_ok(key: bytes, binding: str | None, token: str) -> bool:
    if not (binding and token) or len(token) > MAX_COOKIE:
        return False
    return _signer(key, "csrf").verify_signature(binding, token)
