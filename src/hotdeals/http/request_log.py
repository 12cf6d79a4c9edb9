"""Request ids, structured logs, request metrics: one pure-ASGI middleware, one logging setup.

Every request (``/healthz`` as much as rank and click) crosses :class:`ObserveRequests` once: it
takes the caller's ``X-Request-ID`` when it is sane (1-64 of ``A-Z a-z 0-9 . _ : -``) or makes
one, echoes it in the response's ``X-Request-ID``, puts it on every log line written while the
request runs, and counts the request in :mod:`hotdeals.http.metrics`. No line is logged per
request: the log holds what went wrong, each line naming its request. It also notes when the
request reached the app (:func:`arrival`), so that a request's deadline counts the time it
waited for the event loop before its handler ran.

``HOTDEALS_LOG_FORMAT=json`` writes one JSON object per line (``time``, ``level``, ``logger``,
``message``, ``request_id``, ``pid``, and ``exception`` when there is one); ``text`` (the
default) writes the same fields as text.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import sys
import time
from contextvars import ContextVar

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotdeals.http import metrics

REQUEST_ID: ContextVar[str] = ContextVar("hotdeals_request_id", default="-")
HEADER = b"x-request-id"
_SANE = re.compile(rb"[A-Za-z0-9._:\-]{1,64}")
_ARRIVED = "hotdeals.arrived"  # an ASGI scope extension key: the event loop's time on arrival


def arrival(request: Request) -> float | None:
    """When the request reached the app, in the event loop's time (None outside the middleware)."""
    arrived = request.scope.get(_ARRIVED)
    return arrived if isinstance(arrived, float) else None


class ObserveRequests:
    """Request id in, request id out, one count and one latency sample per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[_ARRIVED] = asyncio.get_running_loop().time()
        raw: bytes | None = None
        for name, value in scope["headers"]:
            if name == HEADER:
                if _SANE.fullmatch(value):
                    raw = value
                break
        if raw is None:
            raw = secrets.token_hex(8).encode()
        token = REQUEST_ID.set(raw.decode())
        status = 500
        started = time.perf_counter()

        async def tagged_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), (HEADER, raw)]}
            await send(message)

        try:
            await self.app(scope, receive, tagged_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            metrics.observe(scope["method"], template, status, time.perf_counter() - started)
            REQUEST_ID.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (``-`` outside a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "pid": record.process,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [pid %(process)d] [%(request_id)s] %(message)s"


def configure_logging(log_format: str) -> None:
    """One stderr handler on the root logger, text or JSON, with request ids (``serve`` only)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if log_format == "json":
        formatter: logging.Formatter = JsonFormatter()
        formatter.converter = time.gmtime
    else:
        formatter = logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("hotdeals").setLevel(logging.INFO)
