"""The API's error answers as exceptions: one class per status a caller handles differently.

Every error of the API is JSON ``{"detail": ...}``: a sentence, or for a 422 a list of
``{loc, msg, type}``, which :class:`BadRequest` keeps as :attr:`HotDealsError.errors`. A
``Retry-After`` header (429, 503) becomes :attr:`HotDealsError.retry_after` in seconds. Network
failures are not wrapped: they propagate as ``httpx.TransportError`` subclasses.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

# Shown when an error answer is not our JSON (a proxy's HTML page, say): its start.
_MAX_RAW_DETAIL = 300


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem of a refused request: where (``("body", "k")``), what, and its kind."""

    loc: tuple[str | int, ...]
    msg: str
    type: str

    def __str__(self) -> str:
        where = ".".join(str(part) for part in self.loc)
        return f"{where}: {self.msg}" if where else self.msg


class HotDealsError(Exception):
    """An error answer of the API; the subclasses name the statuses a caller acts upon."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        *,
        retry_after: float | None = None,
        errors: tuple[FieldError, ...] = (),
    ) -> None:
        super().__init__(f"HTTP {status_code}: {detail}")
        self.status_code = status_code
        self.detail = detail  # the server's sentence; for a 422 its field errors, joined
        self.retry_after = retry_after  # seconds, from Retry-After (429 and 503)
        self.errors = errors  # the 422's field errors, one per problem


class BadRequest(HotDealsError):
    """400 (a value inconsistent with the stored data, a click token that is not ours) or 422
    (a field breaks a limit: :attr:`errors` names it)."""


class Unauthorized(HotDealsError):
    """401: the call needs the admin token, and it is missing or wrong."""


class NotFound(HotDealsError):
    """404: the campaign, deal, customer or transaction does not exist."""


class Conflict(HotDealsError):
    """409: the campaign is paused or ended or has no active deal, a duplicate, a reused
    Idempotency-Key."""


class Gone(HotDealsError):
    """410: the click token has expired; nothing was counted."""


class RateLimited(HotDealsError):
    """429: too many requests from this address or for this customer; wait ``retry_after``."""


class Unavailable(HotDealsError):
    """503: busy or the database is unavailable; retrying after ``retry_after`` is safe (a
    click never counts twice, a rank with the same Idempotency-Key logs once)."""


ERRORS: dict[int, type[HotDealsError]] = {
    400: BadRequest,
    401: Unauthorized,
    404: NotFound,
    409: Conflict,
    410: Gone,
    422: BadRequest,
    429: RateLimited,
    503: Unavailable,
}


def raise_for(response: httpx.Response) -> None:
    """Nothing for a 2xx; else the :class:`HotDealsError` subclass of the status."""
    if response.is_success:
        return
    detail, errors = _detail(response)
    kind = ERRORS.get(response.status_code, HotDealsError)
    raise kind(
        response.status_code,
        detail,
        retry_after=retry_after(response.headers.get("Retry-After")),
        errors=errors,
    )


def _detail(response: httpx.Response) -> tuple[str, tuple[FieldError, ...]]:
    """The answer's ``detail`` as a sentence, and its field errors when it lists them."""
    try:
        detail = json.loads(response.content)["detail"]
    except (ValueError, KeyError, TypeError):
        raw = response.text.strip()[:_MAX_RAW_DETAIL]
        return raw or response.reason_phrase, ()
    if isinstance(detail, str):
        return detail, ()
    if isinstance(detail, list):
        errors = tuple(_field_error(item) for item in detail)
        return "; ".join(str(error) for error in errors), errors
    return json.dumps(detail), ()


def _field_error(item: object) -> FieldError:
    if not isinstance(item, dict):
        return FieldError((), str(item), "")
    loc = item.get("loc")
    parts = tuple(p for p in loc if isinstance(p, str | int)) if isinstance(loc, list) else ()
    return FieldError(parts, str(item.get("msg", "")), str(item.get("type", "")))


def retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds from now: delay-seconds or an HTTP date; None if absent or
    unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
