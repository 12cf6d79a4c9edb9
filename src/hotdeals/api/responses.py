"""Error responses as documented in OpenAPI, shared by the routers."""

from __future__ import annotations

from typing import Any

from hotdeals.http.errors import ERROR_SCHEMA


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entry for these status codes, each a JSON ``{"detail": ...}``."""
    meaning = {
        400: "A value is inconsistent with the stored data (for a click: the token is not one "
        "of this service's)",
        401: "Missing or wrong admin token",
        404: "A referenced object does not exist",
        409: "The request conflicts with the current state",
        410: "The click token has expired; nothing was counted",
        413: "The request body is too large",
        422: "A parameter or a body field is invalid; the detail names it",
        503: "Busy (the deadline passed or the database is unavailable): retry after the "
        "seconds in Retry-After; a retried click, or rank with the same Idempotency-Key, "
        "never counts twice",
    }
    return {
        code: {
            "description": meaning[code],
            "content": {"application/json": {"schema": ERROR_SCHEMA}},
        }
        for code in codes
    }
