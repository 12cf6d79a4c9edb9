"""How errors become HTTP responses for the API and the pages: always JSON ``{"detail": ...}``.

Each :class:`~hotdeals.errors.HotDealsError` answers with its class's ``status_code`` (the table
is ``hotdeals.errors``), and with a ``Retry-After`` header when it carries ``retry_after``; a
database that went away or did not answer in time (a connect, statement or lock timeout, no free
pooled connection) is a 503 with ``Retry-After``; anything unexpected is logged and answered
with a 500 that carries no stack trace.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from hotdeals.errors import HotDealsError

log = logging.getLogger("hotdeals.http")

# Documented on every operation that can return them: ``detail`` is a sentence, or for a 422
# the list that :func:`install_error_handlers` builds (one ``{loc, msg, type}`` per problem).
# Every part is a complete schema (an array names its items) so that client generators keep it.
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {
            "anyOf": [
                {"type": "string"},
                {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "loc": {
                                "type": "array",
                                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                            },
                            "msg": {"type": "string"},
                            "type": {"type": "string"},
                        },
                        "required": ["loc", "msg", "type"],
                    },
                },
            ]
        }
    },
    "required": ["detail"],
}


# Seconds a client is asked to wait after the database failed or timed out.
DATABASE_RETRY_AFTER = 2

# What FastAPI says when a body cannot be decoded at all (e.g. invalid UTF-8).
_FASTAPI_UNPARSABLE_BODY = "There was an error parsing the body"


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers; called once by the app factory."""

    @app.exception_handler(HotDealsError)
    async def domain_error(_request: Request, exc: HotDealsError) -> JSONResponse:
        headers = None if exc.retry_after is None else {"Retry-After": str(exc.retry_after)}
        return JSONResponse({"detail": str(exc)}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == _FASTAPI_UNPARSABLE_BODY:
            # Bytes that are not even text: the same 422 as any other malformed JSON.
            detail = [
                {"loc": ["body"], "msg": "the body is not UTF-8 JSON", "type": "json_invalid"}
            ]
            return JSONResponse({"detail": detail}, status_code=422)
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(IntegrityError)
    async def integrity_error(_request: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity error reached the API: %s", exc.orig)
        return JSONResponse(
            {"detail": "the request conflicts with data already stored"}, status_code=409
        )

    @app.exception_handler(DataError)
    async def data_error(_request: Request, exc: DataError) -> JSONResponse:
        log.warning("a value the database refused reached it: %s", exc.orig)
        return JSONResponse({"detail": "a value cannot be stored as given"}, status_code=400)

    @app.exception_handler(OperationalError)
    async def database_down(_request: Request, exc: OperationalError) -> JSONResponse:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        log.error("database error: %s", reason)
        return JSONResponse(
            {"detail": "the database is unavailable or did not answer in time; retry later"},
            status_code=503,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
        )

    @app.exception_handler(PoolTimeout)
    async def no_connection(_request: Request, _exc: PoolTimeout) -> JSONResponse:
        log.error("database error: no pooled connection became free in time")
        return JSONResponse(
            {"detail": "the database is busy; retry later"},
            status_code=503,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
        )

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse({"detail": "internal error"}, status_code=500)
