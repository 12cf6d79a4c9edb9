"""The test data of the whole suite: customers, campaigns and deals, in the database or as JSON.

Every test that needs a customer or a campaign as *setup* makes it here, so a change to how
they are made (the services' import paths, a new required field) is fixed in this one module.
Tests of the creation itself (the API's validation, the services' refusals) still call the
code under test directly.

- ``make_user(session, ...)`` / ``make_project(session, ...)``: rows through the services, in
  the caller's transaction (flushed, not committed).
- ``user_body(...)`` / ``project_body(...)``: request bodies of ``POST /api/users`` and
  ``POST /api/projects``.
- ``post_user(client, ...)`` / ``post_project(client, ...)``: the same through the API of a
  ``TestClient`` (admin token ``test-admin-token``) or of a live server's admin client (which
  sends its own token); they assert the 201.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hotdeals.db.models import Project, User
from hotdeals.services.projects import create_project
from hotdeals.services.specs import DealSpec, ProjectSpec
from hotdeals.services.users import create_user

# The admin token the ``configured`` fixture gives the app under TestClient.
TEST_ADMIN_TOKEN = "test-admin-token"
ADMIN = {"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"}

PROJECT_NAME = "Hot Deals, week 48"
EMAIL = "ann@example.com"
NAME = "Ann"
PRICE = "1.99"

Deals = int | Sequence[str]


def deal_names(deals: Deals) -> list[str]:
    """``deals`` names, or "Deal 0", "Deal 1", ... for a count."""
    return [f"Deal {i}" for i in range(deals)] if isinstance(deals, int) else list(deals)


# Rows, through the services ----------------------------------------------------------------


def make_user(session: Session, email: str = EMAIL, name: str = NAME) -> User:
    """A customer, flushed in the caller's transaction."""
    return create_user(session, email, name)


def make_project(session: Session, deals: Deals = 4, **overrides: Any) -> Project:
    """A running campaign with these deals (a count or names), flushed in the caller's
    transaction; ``overrides`` are :class:`ProjectSpec` fields (``policy``, ``slots``,
    ``prior_alpha``, ...)."""
    spec = ProjectSpec(
        **{
            "project_name": PROJECT_NAME,
            "bandits": [DealSpec(bandit_name=name) for name in deal_names(deals)],
            **overrides,
        }
    )
    return create_project(session, spec)


# Request bodies --------------------------------------------------------------------------


def user_body(email: str = EMAIL, name: str = NAME) -> dict[str, Any]:
    return {"email": email, "name": name}


def project_body(
    deals: Deals = 4, *, price: str | None = PRICE, described: bool = True, **overrides: Any
) -> dict[str, Any]:
    """A campaign's JSON: deals (a count or names) at ``price`` (none if None), described as
    "Offer number i" unless ``described`` is false; ``overrides`` are top-level fields."""
    bandits: list[dict[str, Any]] = []
    for index, name in enumerate(deal_names(deals)):
        deal: dict[str, Any] = {"bandit_name": name}
        if price is not None:
            deal["price"] = price
        if described:
            deal["description"] = f"Offer number {index}"
        bandits.append(deal)
    return {"project_name": PROJECT_NAME, "bandits": bandits, **overrides}


# Through the API -------------------------------------------------------------------------


def admin_header(client: httpx.Client) -> dict[str, str]:
    """The test app's bearer token; a live server's API client already sends its own."""
    return ADMIN if isinstance(client, TestClient) else {}


def post_user(client: httpx.Client, email: str = EMAIL, name: str = NAME) -> int:
    """A customer created through the API; returns its id."""
    response = client.post("/api/users", json=user_body(email, name), headers=admin_header(client))
    assert response.status_code == 201, response.text
    return int(response.json()["customer_id"])


def post_project(client: httpx.Client, deals: Deals = 4, **fields: Any) -> dict[str, Any]:
    """A campaign created through the API from :func:`project_body`; returns the API's answer."""
    body = project_body(deals, **fields)
    response = client.post("/api/projects", json=body, headers=admin_header(client))
    assert response.status_code == 201, response.text
    project: dict[str, Any] = response.json()
    return project


def without_tokens(answer: dict[str, Any]) -> dict[str, Any]:
    """A rank answer without its click tokens: a replayed ranking has the same deals and
    transactions, and tokens issued anew (their time may differ by a second)."""
    return {**answer, "deals": [{**d, "click_token": None} for d in answer["deals"]]}
