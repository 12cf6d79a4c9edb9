"""The two clients, sync and async: one connection pool each, and every call of :mod:`calls`.

Their methods are the functions of :mod:`hotdeals.client.calls` bound to a connection (same
parameters, same documentation, same return type, awaited for the async one), so the two can
never disagree on the wire format. Both are context managers that close their pool on exit.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, Self, TypeVar

import httpx

from hotdeals.client import calls
from hotdeals.client.calls import Call

T = TypeVar("T")
P = ParamSpec("P")
DEFAULT_TIMEOUT = 5.0  # seconds, for connecting, each read and each write
IDLE_CONNECTION_S = 2.0
"""How long an idle pooled connection is reused: well under the server's keep-alive timeout
(``HOTDEALS_KEEPALIVE_TIMEOUT_S``, 5 s by default). At httpx's own default (also 5 s) a request
sent on a connection the server is closing at that moment fails with "Server disconnected"."""
POOL_LIMITS = httpx.Limits(keepalive_expiry=IDLE_CONNECTION_S)


def _headers(admin_token: str | None) -> dict[str, str]:
    return {} if admin_token is None else {"Authorization": f"Bearer {admin_token}"}


def _sync(build: Callable[P, Call[T]]) -> Callable[Concatenate[HotDealsClient, P], T]:
    """A method of :class:`HotDealsClient` that sends the call ``build`` makes."""

    @functools.wraps(build)
    def method(self: HotDealsClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self.send(build(*args, **kwargs))

    return method


def _async(
    build: Callable[P, Call[T]],
) -> Callable[Concatenate[AsyncHotDealsClient, P], Coroutine[Any, Any, T]]:
    """A coroutine method of :class:`AsyncHotDealsClient` that sends the call ``build`` makes."""

    @functools.wraps(build)
    async def method(self: AsyncHotDealsClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.send(build(*args, **kwargs))

    return method


class HotDealsClient:
    """The Hot Deals API for a shop's backend (``httpx`` underneath).

    ``admin_token`` (the server's ``HOTDEALS_ADMIN_TOKEN``) is sent with every request when
    given; rank by visitor, click by token and the current project need none. ``transport``
    replaces the network (``httpx.MockTransport``, an ASGI app's transport) for tests.
    """

    def __init__(
        self,
        base_url: str,
        *,
        admin_token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.http = httpx.Client(
            base_url=base_url,
            headers=_headers(admin_token),
            timeout=timeout,
            limits=POOL_LIMITS,
            transport=transport,
        )

    def send(self, call: Call[T]) -> T:
        """Send one call; its answer, or the :class:`HotDealsError` of its status."""
        response = self.http.request(
            call.method, call.path, json=call.json, params=call.params, headers=call.headers
        )
        return call.result(response)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    rank = _sync(calls.rank)
    click = _sync(calls.click)
    click_by_id = _sync(calls.click_by_id)
    purchase = _sync(calls.purchase)
    purchase_by_id = _sync(calls.purchase_by_id)
    current_project = _sync(calls.current_project)
    create_project = _sync(calls.create_project)
    get_project = _sync(calls.get_project)
    list_projects = _sync(calls.list_projects)
    update_project = _sync(calls.update_project)
    add_deal = _sync(calls.add_deal)
    list_deals = _sync(calls.list_deals)
    update_deal = _sync(calls.update_deal)
    create_user = _sync(calls.create_user)
    get_user = _sync(calls.get_user)
    list_users = _sync(calls.list_users)
    stats = _sync(calls.stats)
    timeseries = _sync(calls.timeseries)
    transactions_csv = _sync(calls.transactions_csv)


class AsyncHotDealsClient:
    """:class:`HotDealsClient` for asyncio code: the same methods, awaited."""

    def __init__(
        self,
        base_url: str,
        *,
        admin_token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.http = httpx.AsyncClient(
            base_url=base_url,
            headers=_headers(admin_token),
            timeout=timeout,
            limits=POOL_LIMITS,
            transport=transport,
        )

    async def send(self, call: Call[T]) -> T:
        """Send one call; its answer, or the :class:`HotDealsError` of its status."""
        response = await self.http.request(
            call.method, call.path, json=call.json, params=call.params, headers=call.headers
        )
        return call.result(response)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    rank = _async(calls.rank)
    click = _async(calls.click)
    click_by_id = _async(calls.click_by_id)
    purchase = _async(calls.purchase)
    purchase_by_id = _async(calls.purchase_by_id)
    current_project = _async(calls.current_project)
    create_project = _async(calls.create_project)
    get_project = _async(calls.get_project)
    list_projects = _async(calls.list_projects)
    update_project = _async(calls.update_project)
    add_deal = _async(calls.add_deal)
    list_deals = _async(calls.list_deals)
    update_deal = _async(calls.update_deal)
    create_user = _async(calls.create_user)
    get_user = _async(calls.get_user)
    list_users = _async(calls.list_users)
    stats = _async(calls.stats)
    timeseries = _async(calls.timeseries)
    transactions_csv = _async(calls.transactions_csv)
