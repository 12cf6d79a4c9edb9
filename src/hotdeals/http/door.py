"""Limits at the door: what a connection may send before the app sees a request, and how slowly.

uvicorn's httptools protocol (the fast one ``hotdeals serve`` uses) accepts a head of any size
(a 32 MB header was read whole) and waits forever for a head or a body sent byte by byte. Two
pieces close that, both configured by ``HOTDEALS_*`` settings (docs/scaling.md, "Operations"):

* :class:`DoorProtocol`, uvicorn's ``HttpToolsProtocol`` with limits on the head: at most
  ``max_header_bytes`` for the request line and headers together (counted as the bytes arrive,
  so a connection never buffers much more than that) and ``max_headers`` fields, else **431**
  and the connection is closed; a head not complete ``header_timeout`` seconds after its first
  byte (or after the connection opened) closes the connection. Idle keep-alive connections and
  the number of connections are uvicorn's own ``timeout_keep_alive`` and ``limit_concurrency``.
* :class:`BodyTimeout`, a pure-ASGI guard: the body must arrive within ``body_timeout`` seconds
  of the request's start, else **408** and the connection is closed.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from hotdeals.config import Settings, get_settings

_REFUSAL_431 = json.dumps({"detail": "request header fields too large"}).encode()


class DoorProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` that bounds the size, the field count and the time of a request head.

    Select it with ``uvicorn.run(..., http="hotdeals.http.door:DoorProtocol")``; the limits are
    read from the settings once per process.
    """

    max_header_bytes: int = 16_384
    max_headers: int = 100
    header_timeout: float = 10.0
    _configured = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if not DoorProtocol._configured:
            DoorProtocol.configure(get_settings())
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0
        self._fields = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._earlier: list[RequestResponseCycle] = []

    @classmethod
    def configure(cls, settings: Settings) -> None:
        cls.max_header_bytes = settings.hotdeals_max_header_bytes
        cls.max_headers = settings.hotdeals_max_headers
        cls.header_timeout = settings.hotdeals_header_timeout_s
        cls._configured = True

    # Connection events
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        """Also tell the cycles before the latest that the client is gone.

        uvicorn marks only the latest cycle disconnected; an earlier one of a pipelined
        connection would then write to the closed transport, which uvloop refuses with a
        ``RuntimeError`` that reached the logs as an ~8 KB traceback per aborted connection.
        Marked, its response is dropped silently, as for any client that went away.
        """
        self._disarm_head_timer()
        for cycle in self._earlier:
            if not cycle.response_complete:
                cycle.disconnected = True
                cycle.message_event.set()
        self._earlier.clear()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        counted = self._in_head
        if counted:
            self._head_bytes += len(data)
        super().data_received(data)
        if counted and self._in_head and self._head_bytes > self.max_header_bytes:
            self._refuse()

    # Parser callbacks
    def on_message_begin(self) -> None:
        self._in_head = True
        self._fields = 0
        if self._head_timer is None:
            self._arm_head_timer()
        super().on_message_begin()

    def on_header(self, name: bytes, value: bytes) -> None:
        self._fields += 1
        if self._fields <= self.max_headers:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._disarm_head_timer()
        if self._fields > self.max_headers:
            self._refuse()
            return
        previous = self.cycle
        super().on_headers_complete()
        if previous is not None and previous is not self.cycle:
            self._earlier = [c for c in self._earlier if not c.response_complete]
            if not previous.response_complete:
                self._earlier.append(previous)

    def on_body(self, body: bytes) -> None:
        if self.cycle is None or self.transport.is_closing():
            return
        super().on_body(body)

    def on_message_complete(self) -> None:
        if self.cycle is None or self.transport.is_closing():
            return
        super().on_message_complete()

    # Helpers
    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self.transport.close()

    def _refuse(self) -> None:
        """431 and close, unless an earlier response on this connection is still being written."""
        self._disarm_head_timer()
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:
            head = (
                b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                b"content-type: application/json\r\n"
                b"content-length: " + str(len(_REFUSAL_431)).encode() + b"\r\n"
                b"connection: close\r\n\r\n"
            )
            self.transport.write(head + _REFUSAL_431)
        self.transport.close()


class BodyTimeout:
    """Answer 408 (and close) when a request's body has not arrived ``seconds`` after it started.

    Pure ASGI, and free for requests without a body: only a request that declares one (a
    Content-Length other than 0, or chunked) has its ``receive`` bounded.
    """

    def __init__(self, app: ASGIApp, seconds: float = 10.0) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        done = False

        async def bounded_receive() -> Message:
            nonlocal done
            if done:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise HTTPException(
                    408,
                    f"request body not received within {self.seconds:g} s",
                    headers={"Connection": "close"},
                ) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                done = True
            return message

        await self.app(scope, bounded_receive, send)


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return bool(value != b"0")
        if name == b"transfer-encoding":
            return True
    return False
