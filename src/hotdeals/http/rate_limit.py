"""Rate limits at the door: one limiter per app (the ``limits`` library, fixed windows), the
rules from the settings, and the dependencies that answer 429 with ``Retry-After``.

Keys are the client address (``request.client.host``; behind a proxy, uvicorn's
``FORWARDED_ALLOW_IPS`` must name it so that this is the shopper's address, not the proxy's)
or the customer id. Storage is in-process memory (each worker counts its own requests) unless
``HOTDEALS_RATE_LIMIT_STORAGE=redis://...``, which every worker and replica shares.

Fixed windows, not moving ones: a hit is one counter increment (one ``INCR`` + ``EXPIRE`` in
Redis, a dict update in memory) whatever the limit, where a moving window keeps one entry per
request; the price is that a client may spend two windows' worth around a window boundary,
which a limit meant to stop floods can afford. A storage that fails (Redis down or slow) lets
requests through with a log line: limits protect the service, they must not stop it.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.errors import StorageError
from limits.storage import MemoryStorage

from hotdeals.config import Settings
from hotdeals.errors import RateLimited
from hotdeals.http.metrics import RATE_LIMIT_REFUSALS

log = logging.getLogger("hotdeals.rate_limit")

# A shared storage that does not answer within this many seconds lets the request through.
REDIS_TIMEOUT = 0.25
_WARN_EVERY = 10.0  # seconds between two log lines about a failing storage


@dataclass(frozen=True, slots=True)
class Rule:
    """One limit: its rate, and the constant part of its keys, built once."""

    name: str
    rate: RateLimitItem
    what: str  # for the refusal message: "too many rank requests"
    prefix: str  # "rank-ip/50/1/second/": a changed rate starts afresh
    expiry: int  # the window, in seconds
    amount: int  # requests allowed per window

    @classmethod
    def of(cls, name: str, rate: str, what: str) -> Rule:
        item = parse(rate)
        prefix = f"{name}/{item.amount}/{item.multiples}/{item.GRANULARITY.name}/"
        return cls(name, item, what, prefix, item.get_expiry(), item.amount)


@dataclass(frozen=True, slots=True)
class Rules:
    rank_ip: Rule
    rank_customer: Rule
    click_ip: Rule
    click_customer: Rule
    signin_ip: Rule
    guest_ip: Rule
    visitor_ip: Rule
    admin_failures_ip: Rule

    @classmethod
    def from_settings(cls, s: Settings) -> Rules:
        return cls(
            rank_ip=Rule.of("rank-ip", s.hotdeals_rate_limit_rank_per_ip, "rank requests"),
            rank_customer=Rule.of(
                "rank-customer",
                s.hotdeals_rate_limit_rank_per_customer,
                "rank requests for this customer",
            ),
            click_ip=Rule.of("click-ip", s.hotdeals_rate_limit_click_per_ip, "clicks"),
            click_customer=Rule.of(
                "click-customer",
                s.hotdeals_rate_limit_click_per_customer,
                "clicks from this customer",
            ),
            signin_ip=Rule.of("signin-ip", s.hotdeals_rate_limit_signin_per_ip, "sign-ins"),
            guest_ip=Rule.of("guest-ip", s.hotdeals_rate_limit_guest_per_ip, "new guests"),
            visitor_ip=Rule.of(
                "visitor-ip", s.hotdeals_rate_limit_visitor_per_ip, "new visitors from this address"
            ),
            admin_failures_ip=Rule.of(
                "admin-failures-ip",
                s.hotdeals_rate_limit_admin_failures_per_ip,
                "failed admin sign-ins",
            ),
        )


class RateLimits:
    """The limiter of one app: :meth:`hit` counts a request and says how long to wait, if at all.

    With memory storage every call is synchronous (a dict update under an uncontended lock: no
    await, no thread hop); with Redis it awaits the asyncio client.
    """

    def __init__(self, settings: Settings) -> None:
        self.rules = Rules.from_settings(settings)
        uri = settings.hotdeals_rate_limit_storage
        self.shared = not uri.startswith("memory://")
        self._last_warning = -math.inf
        if self.shared:
            self.redis: RedisStorage | None = RedisStorage(
                "async+" + uri,
                wrap_exceptions=True,
                implementation="redispy",
                key_prefix=settings.hotdeals_rate_limit_key_prefix,
                socket_timeout=REDIS_TIMEOUT,
                socket_connect_timeout=REDIS_TIMEOUT,
            )
        else:
            self.redis = None
            self.memory = MemoryStorage()

    async def hit(self, rule: Rule, key: str) -> int | None:
        """Count one request; ``None`` if allowed, else the seconds until the window frees.

        The library's fixed-window algorithm (``incr(key, expiry) <= amount``, as its
        ``FixedWindowRateLimiter.hit``) on its storages, with the key's constant part built once
        per rule instead of on every call.
        """
        full_key = rule.prefix + key
        try:
            if self.redis is None:
                if self.memory.incr(full_key, rule.expiry) <= rule.amount:
                    return None
                reset = self.memory.get_expiry(full_key)
            else:
                if await self.redis.incr(full_key, rule.expiry) <= rule.amount:
                    return None
                reset = await self.redis.get_expiry(full_key)
        except (StorageError, OSError) as exc:
            self._warn(exc)
            return None
        RATE_LIMIT_REFUSALS.labels(rule.name).inc()
        return max(1, math.ceil(reset - time.time()))

    async def check(self, rule: Rule, key: str) -> None:
        """Count one request; raise :class:`RateLimited` (429 with ``Retry-After``) if over."""
        retry_after = await self.hit(rule, key)
        if retry_after is not None:
            raise RateLimited(f"too many {rule.what}; retry in {retry_after} s", retry_after)

    async def reset(self) -> None:
        """Forget every count (the Redis keys under this app's prefix); for tests and tools."""
        if self.redis is not None:
            await self.redis.reset()
        else:
            self.memory.reset()

    async def close(self) -> None:
        """Close the Redis connections; call it on the event loop that used them."""
        client = getattr(self.redis.bridge, "storage", None) if self.redis is not None else None
        if client is not None:
            await client.aclose()

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_warning >= _WARN_EVERY:
            self._last_warning = now
            log.warning("rate-limit storage failed, letting requests through: %s", exc)


def rate_limits(request: Request) -> RateLimits:
    """The app's limiter, created on first use from the app's settings."""
    limiter: RateLimits | None = getattr(request.app.state, "rate_limits", None)
    if limiter is None:
        limiter = RateLimits(request.app.state.hotdeals.settings)
        request.app.state.rate_limits = limiter
    return limiter


def client_ip(request: Request) -> str:
    """The client's address as uvicorn reports it (the proxy's, unless proxy headers are on)."""
    return request.client.host if request.client is not None else "unknown"


async def limit_rank_per_ip(request: Request) -> None:
    await rate_limits(request).check(rate_limits(request).rules.rank_ip, client_ip(request))


async def limit_click_per_ip(request: Request) -> None:
    await rate_limits(request).check(rate_limits(request).rules.click_ip, client_ip(request))


async def limit_rank_per_customer(request: Request, customer_id: int) -> None:
    limiter = rate_limits(request)
    await limiter.check(limiter.rules.rank_customer, str(customer_id))


async def limit_click_per_customer(request: Request, customer_id: int) -> None:
    limiter = rate_limits(request)
    await limiter.check(limiter.rules.click_customer, str(customer_id))


async def limit_new_visitor_per_ip(request: Request) -> None:
    """Counted when a visitor id is not yet known to this worker (it may become a new row)."""
    limiter = rate_limits(request)
    await limiter.check(limiter.rules.visitor_ip, client_ip(request))


async def admin_failure(request: Request) -> int | None:
    """Count a failed admin authentication from this address; seconds to wait if over."""
    limiter = rate_limits(request)
    return await limiter.hit(limiter.rules.admin_failures_ip, client_ip(request))


async def limiter_dep(request: Request) -> RateLimits:
    return rate_limits(request)


LimiterDep = Annotated[RateLimits, Depends(limiter_dep)]
ClickPerIp = Depends(limit_click_per_ip)
