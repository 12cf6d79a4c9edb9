"""The one place where errors become HTTP responses: always JSON ``{"detail": ...}``.

Our :class:`~hotdeals.errors.HotDealsError` family maps to 400/404/409; a database that went away
is a 503; anything unexpected is logged and answered with a 500 that carries no stack trace.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hotdeals.bandit import BanditError
from hotdeals.errors import (
    Conflict,
    DatabaseUnavailable,
    HotDealsError,
    InvalidRequest,
    NotFound,
)

log = logging.getLogger("hotdeals.api")

STATUS_OF: list[tuple[type[Exception], int]] = [
    (NotFound, 404),
    (Conflict, 409),
    (InvalidRequest, 400),
    (BanditError, 400),
    (DatabaseUnavailable, 503),
]

# Documented on every operation that can return them.
ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"anyOf": [{"type": "string"}, {"type": "array"}]}},
    "required": ["detail"],
}


def status_for(exc: Exception) -> int:
    for kind, status in STATUS_OF:
        if isinstance(exc, kind):
            return status
    return 500


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers; called once by the app factory."""

    @app.exception_handler(HotDealsError)
    @app.exception_handler(BanditError)
    async def domain_error(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status_for(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(IntegrityError)
    async def integrity_error(_request: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity error reached the API: %s", exc.orig)
        return JSONResponse(
            {"detail": "the request conflicts with data already stored"}, status_code=409
        )

    @app.exception_handler(OperationalError)
    async def database_down(_request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database error: %s", exc.orig)
        return JSONResponse({"detail": "the database is unavailable"}, status_code=503)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse({"detail": "internal error"}, status_code=500)
