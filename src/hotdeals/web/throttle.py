"""The pages' side of the rate limits: past a limit, a 429 problem page with ``Retry-After``.

The limits and their counting are :mod:`hotdeals.http.rate_limit`'s (the same counters as the
API's, so a script cannot dodge a limit by switching from the API to the pages). Here are the
dependencies of the storefront's sign-in and guest forms and the dashboard's sign-in. The home
page itself ranks nothing (its strip calls the API, within the API's limits), so page views
have no limit of their own.
"""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from hotdeals.http.rate_limit import Rule, client_ip, rate_limits
from hotdeals.web.errors import ShowPage
from hotdeals.web.rendering import problem

SHOP = ("/", "Back to the shop")


def too_many(retry_after: int, title: str, text: str, back: tuple[str, str] = SHOP) -> Response:
    """The problem page of a refusal, with the seconds to wait in ``Retry-After``."""
    response = problem(
        title,
        f"{text} Please try again in {retry_after} second{'s' if retry_after != 1 else ''}.",
        429,
        back_url=back[0],
        back_label=back[1],
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


async def refuse_if_over(request: Request, rule: Rule, key: str, title: str, text: str) -> None:
    retry_after = await rate_limits(request).hit(rule, key)
    if retry_after is not None:
        raise ShowPage(too_many(retry_after, title, text))


async def signin_per_ip(request: Request) -> None:
    rules = rate_limits(request).rules
    await refuse_if_over(
        request,
        rules.signin_ip,
        client_ip(request),
        "Too many sign-ins",
        "We received many sign-ins from your network just now.",
    )


async def guest_per_ip(request: Request) -> None:
    rules = rate_limits(request).rules
    await refuse_if_over(
        request,
        rules.guest_ip,
        client_ip(request),
        "Too many new visits",
        "We received many new guest visits from your network just now.",
    )


async def admin_failure_page(request: Request, back: tuple[str, str]) -> Response | None:
    """Count a wrong token at the dashboard's sign-in; the 429 page once over the limit."""
    limiter = rate_limits(request)
    retry_after = await limiter.hit(limiter.rules.admin_failures_ip, client_ip(request))
    if retry_after is None:
        return None
    return too_many(
        retry_after,
        "Too many failed sign-ins",
        "We received many wrong admin tokens from your network just now.",
        back,
    )
