"""Helpers for page tests: the live server, form tokens, the storefront's strip, cookies, the
API's figures, who the logged impressions belong to, and a clock the tests move.

Campaigns and customers come from ``tests.factories`` (``post_project``, ``post_user``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, bindparam, text

from tests.factories import TEST_ADMIN_TOKEN, admin_header

TOKEN = TEST_ADMIN_TOKEN

DealRow = dict[str, Any]


@dataclass(frozen=True)
class LiveServer:
    """A running ``hotdeals serve``, an admin client of its API (for set-up and checks) and an
    engine on its database (to check what it logged)."""

    base_url: str
    api: httpx.Client
    backend: str
    engine: Engine

    def url(self, path: str) -> str:
        return self.base_url + path


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


STRIP = re.compile(r"<hot-deals\s([^>]*)>")


def strip_of(html: str) -> dict[str, str] | None:
    """The attributes of the page's ``<hot-deals>`` strip, or None when the page has none."""
    match = STRIP.search(html)
    return dict(re.findall(r'([a-z-]+)="([^"]*)"', match.group(1))) if match else None


def rank_as_the_strip(client: httpx.Client, html: str) -> list[DealRow]:
    """The very call the page's strip makes (one page view): its campaign's ranking for its
    visitor id, through the open API; returns the deals."""
    strip = strip_of(html)
    assert strip is not None, "no strip on the page"
    response = client.post(
        f"/api/projects/{strip['project']}/rank",
        json={"visitor_id": strip["visitor-id"], "k": int(strip["slots"])},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 200, response.text
    deals: list[DealRow] = response.json()["deals"]
    return deals


def logged_customers(engine: Engine, transaction_ids: Iterable[int]) -> set[int]:
    """Whose impressions these are, as the transactions table says."""
    query = text(
        "SELECT DISTINCT customer_id FROM transactions WHERE transaction_id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    with engine.connect() as connection:
        return set(connection.scalars(query, {"ids": list(transaction_ids)}))


def stored_visitor_id(engine: Engine, customer_id: int) -> str | None:
    """The customer's ``users.visitor_id``."""
    query = text("SELECT visitor_id FROM users WHERE customer_id = :c")
    with engine.connect() as connection:
        value: str | None = connection.scalar(query, {"c": customer_id})
        return value


def cookie_header(response: httpx.Response, name: str) -> str:
    """The raw Set-Cookie header for cookie ``name`` (to check its flags)."""
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return header
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.get_list('set-cookie')}")


def cookie_flags(header: str) -> dict[str, str]:
    """Flags of one Set-Cookie header, lower-cased names (``httponly`` maps to "")."""
    parsed = SimpleCookie()
    parsed.load(header)
    (morsel,) = parsed.values()
    flags = {k.lower(): str(v) for k, v in morsel.items() if v}
    flags["value"] = morsel.value
    return flags


def stats(client: httpx.Client, project_id: int) -> dict[int, DealRow]:
    """The API's per-deal statistics by bandit id."""
    response = client.get(f"/api/projects/{project_id}/stats", headers=admin_header(client))
    assert response.status_code == 200, response.text
    return {row["bandit_id"]: row for row in response.json()["bandits"]}


def impressions(client: httpx.Client, project_id: int) -> int:
    return sum(row["impressions"] for row in stats(client, project_id).values())


def clicks(client: httpx.Client, project_id: int) -> int:
    return sum(row["clicks"] for row in stats(client, project_id).values())


def admin_sign_in(client: TestClient) -> str:
    """Sign the client in to the dashboard through the form; returns the dashboard CSRF token."""
    csrf = csrf_of(client.get("/admin").text)
    response = client.post("/admin/login", data={"csrf": csrf, "token": TOKEN})
    assert response.status_code == 200, response.text
    assert "Campaigns" in response.text
    return csrf_of(response.text)


def visitor_token(client: TestClient, path: str = "/") -> str:
    """The storefront form token of this client's visitor cookie."""
    return csrf_of(client.get(path).text)


@dataclass
class Clock:
    """The app's wall clock in a test (``create_app(settings, clock=...)``): it stands still
    until the test moves it, so a window's edge is crossed without waiting."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def move(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def api_stats(client: httpx.Client, project_id: int) -> dict[str, Any]:
    """The whole body of the API's ``/stats``."""
    response = client.get(f"/api/projects/{project_id}/stats", headers=admin_header(client))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def section(html: str, start: str, end: str) -> str:
    """The part of a page from the first ``start`` to the next ``end`` after it."""
    assert start in html, f"{start!r} is not on the page"
    tail = html[html.index(start) :]
    return tail[: tail.index(end)]
