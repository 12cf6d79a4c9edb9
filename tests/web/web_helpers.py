"""Helpers for page tests: the live server, form tokens, cookies and the API's figures.

Campaigns and customers come from ``tests.factories`` (``post_project``, ``post_user``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.factories import TEST_ADMIN_TOKEN, admin_header

TOKEN = TEST_ADMIN_TOKEN

DealRow = dict[str, Any]


@dataclass(frozen=True)
class LiveServer:
    """A running ``hotdeals serve`` and an admin client of its API (for set-up and checks)."""

    base_url: str
    api: httpx.Client
    backend: str

    def url(self, path: str) -> str:
        return self.base_url + path


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def transaction_ids(html: str) -> list[int]:
    """The impressions a page shows, in slot order (each card's heading is ``deal-<id>``)."""
    return [int(t) for t in re.findall(r'class="deal-name" id="deal-(\d+)"', html)]


def click_tokens(html: str) -> list[str]:
    """The click tokens of a page's "Add to basket" forms, in slot order."""
    return re.findall(r'name="token" value="([^"]+)"', html)


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
