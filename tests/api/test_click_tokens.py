"""A shop's page over HTTP, on both backends: click tokens, visitor rows, the campaign's
currency and the current campaign; each test ends with the counters matching the log.

Tokens are made outside the app with the app's own key (``HOTDEALS_SECRET_KEY``) or another,
and on an injected clock, so nothing here waits for a token to expire.
"""

from __future__ import annotations

import string
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.app import create_app
from hotdeals.config import Settings, get_settings
from hotdeals.db.audit import find_mismatches
from hotdeals.db.models import Transaction, User
from hotdeals.services.click_tokens import ClickTokens
from tests.factories import ADMIN, TEST_ADMIN_TOKEN, post_project

KEY = "click-token-test-key-0123456789abcdef"
TTL_S = 3_600
# A token is ``<id>-<customer>.<time>.<signature>``, the last two in URL-safe base64.
BASE64 = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"


@pytest.fixture
def client(configured: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The app with a known key and a one-hour token lifetime."""
    monkeypatch.setenv("HOTDEALS_SECRET_KEY", KEY)
    monkeypatch.setenv("HOTDEALS_CLICK_TOKEN_TTL_S", str(TTL_S))
    get_settings.cache_clear()
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client


def another_app(database_url: str, key: str) -> TestClient:
    """A second app (another worker, replica or deployment) on the same database."""
    settings = Settings(
        database_url=database_url, hotdeals_admin_token=TEST_ADMIN_TOKEN, hotdeals_secret_key=key
    )
    return TestClient(create_app(settings), raise_server_exceptions=False)


def shown(client: TestClient, pid: int, visitor: str = "v-1") -> list[dict[str, Any]]:
    answer = client.post(f"/api/projects/{pid}/rank", json={"visitor_id": visitor})
    assert answer.status_code == 200, answer.text
    deals: list[dict[str, Any]] = answer.json()["deals"]
    return deals


def click(client: TestClient, token: str) -> httpx.Response:
    return client.post("/api/clicks", json={"token": token})


def refused(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.json()["detail"].startswith("token:"), response.text


def counted(sessions: sessionmaker[Session]) -> tuple[int, int]:
    """(impressions, clicks) in the log, once db-check's comparison with the counters holds."""
    with sessions() as session:
        assert find_mismatches(session) == []
        rows = select(func.count()).select_from(Transaction)
        return (
            session.scalar(rows) or 0,
            session.scalar(rows.where(Transaction.clicked)) or 0,
        )


def customer_of(sessions: sessionmaker[Session], visitor: str) -> int:
    with sessions() as session:
        found = session.scalar(select(User.customer_id).where(User.visitor_id == visitor))
        assert found is not None
        return found


def other_character(character: str) -> str:
    """Another character that changes what the position decodes to (its top bit flipped)."""
    if character in BASE64:
        return BASE64[BASE64.index(character) ^ 32]
    return "_"  # the separator "."


# Click tokens -----------------------------------------------------------------------------


def test_a_token_edited_in_any_character_is_400_and_counts_nothing(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    pid = post_project(client, deals=3, slots=2)["project_id"]
    first, second = shown(client, pid)
    token = first["click_token"]
    for position, character in enumerate(token):
        edited = token[:position] + other_character(character) + token[position + 1 :]
        refused(click(client, edited), 400)
    # Pointed at the other shown impression: still not a token of ours.
    retargeted = token.replace(f"{first['transaction_id']}-", f"{second['transaction_id']}-", 1)
    refused(click(client, retargeted), 400)
    assert counted(sessions) == (2, 0)
    assert click(client, token).json()["already_recorded"] is False  # the genuine one counts
    assert counted(sessions) == (2, 1)


def test_no_other_spelling_of_any_character_is_accepted(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    """Every character at every position, including the spare bits of unpadded base64's last
    character (which decode to the same signature): only the issued spelling is a token."""
    pid = post_project(client, deals=1)["project_id"]
    token = shown(client, pid)[0]["click_token"]
    accepted = []
    for position, character in enumerate(token):
        for other in BASE64 + ".":
            edited = token[:position] + other + token[position + 1 :]
            if other != character and click(client, edited).status_code != 400:
                accepted.append(edited)
    assert accepted == [], f"{len(accepted)} edited tokens accepted, e.g. {accepted[:3]}"
    assert counted(sessions) == (1, 0)


def test_a_truncated_or_extended_token_is_400(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    pid = post_project(client, deals=1)["project_id"]
    token = shown(client, pid)[0]["click_token"]
    for length in range(1, len(token)):
        refused(click(client, token[:length]), 400)
    refused(click(client, token + "A"), 400)
    for empty_or_huge in ("", "A" * 201):
        assert click(client, empty_or_huge).status_code == 422
    assert counted(sessions) == (1, 0)


def test_a_token_of_another_deployment_is_400_both_ways(
    client: TestClient, database_url: str, sessions: sessionmaker[Session]
) -> None:
    pid = post_project(client, deals=2, slots=1)["project_id"]
    ours = shown(client, pid)[0]
    customer = customer_of(sessions, "v-1")
    forged = ClickTokens(b"another deployment's key", ttl_s=TTL_S).issue(
        ours["transaction_id"], customer
    )
    refused(click(client, forged), 400)
    with another_app(database_url, "another deployment's key") as theirs:
        their_deal = shown(theirs, pid, "v-2")[0]
        refused(click(theirs, ours["click_token"]), 400)
        refused(click(client, their_deal["click_token"]), 400)
        assert click(theirs, their_deal["click_token"]).status_code == 200
    assert counted(sessions) == (2, 1)


def test_an_expired_token_is_410_and_counts_nothing(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    pid = post_project(client, deals=1)["project_id"]
    deal = shown(client, pid)[0]
    claim = (deal["transaction_id"], customer_of(sessions, "v-1"))
    now = time.time()
    expired = ClickTokens(KEY.encode(), ttl_s=60, clock=lambda: now - TTL_S - 60).issue(*claim)
    expired_response = click(client, expired)
    refused(expired_response, 410)
    assert "expired" in expired_response.json()["detail"]
    assert counted(sessions) == (1, 0)
    # Issued within the app's lifetime (HOTDEALS_CLICK_TOKEN_TTL_S), the same claim counts.
    aged = ClickTokens(KEY.encode(), ttl_s=60, clock=lambda: now - TTL_S + 120).issue(*claim)
    assert click(client, aged).json()["already_recorded"] is False
    assert counted(sessions) == (1, 1)


def test_a_replayed_token_is_200_already_recorded_on_any_worker(
    client: TestClient, database_url: str, sessions: sessionmaker[Session]
) -> None:
    pid = post_project(client, deals=2, slots=1)["project_id"]
    deal = shown(client, pid)[0]
    first = click(client, deal["click_token"]).json()
    assert (first["transaction_id"], first["already_recorded"]) == (deal["transaction_id"], False)
    assert click(client, deal["click_token"]).json()["already_recorded"] is True
    with another_app(database_url, KEY) as replica:  # same key: another worker or replica
        assert click(replica, deal["click_token"]).json()["already_recorded"] is True
    assert counted(sessions) == (1, 1)


def test_a_genuine_token_for_an_unknown_impression_is_404(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    pid = post_project(client, deals=1)["project_id"]
    shown(client, pid)
    token = ClickTokens(KEY.encode(), ttl_s=TTL_S).issue(999_999, customer_of(sessions, "v-1"))
    response = click(client, token)
    assert response.status_code == 404
    assert response.json() == {"detail": "transaction 999999 does not exist"}
    assert counted(sessions) == (1, 0)


def test_a_click_by_id_needs_the_admin_token(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    pid = post_project(client, deals=1)["project_id"]
    url = f"/api/transactions/{shown(client, pid)[0]['transaction_id']}/click"
    assert client.post(url).status_code == 401
    assert client.post(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert counted(sessions) == (1, 0)
    by_admin = client.post(url, headers=ADMIN)
    assert (by_admin.status_code, by_admin.json()["already_recorded"]) == (200, False)
    assert counted(sessions) == (1, 1)


# Visitors ---------------------------------------------------------------------------------


def test_a_visitor_is_one_row_without_personal_data(
    client: TestClient, database_url: str, sessions: sessionmaker[Session]
) -> None:
    pid = post_project(client, deals=2, slots=1)["project_id"]
    shown(client, pid, "v-ann")
    shown(client, pid, "v-ann")
    with another_app(database_url, KEY) as other_worker:  # its own cache: finds the row
        shown(other_worker, pid, "v-ann")
    shown(client, pid, "v-bob")
    with sessions() as session:
        ann = session.scalars(select(User).where(User.visitor_id == "v-ann")).one()
        assert ann.email.endswith("@visitors.invalid")
        assert "v-ann" not in ann.email
        assert ann.name == "Visitor"
        by_customer = session.execute(
            select(Transaction.customer_id, func.count()).group_by(Transaction.customer_id)
        ).all()
        assert session.scalar(select(func.count()).select_from(User)) == 2
    assert dict(by_customer) == {ann.customer_id: 3, customer_of(sessions, "v-bob"): 1}
    assert counted(sessions) == (4, 0)


@pytest.mark.parametrize(
    "visitor",
    ["", "x" * 129, "a b", "a\x01b", "a\tb", "café", "v\u200b"],
    ids=["empty", "129-chars", "space", "control", "tab", "non-ascii", "zero-width"],
)
def test_a_bad_visitor_id_is_422_naming_it(
    client: TestClient, sessions: sessionmaker[Session], visitor: str
) -> None:
    pid = post_project(client, deals=1)["project_id"]
    response = client.post(f"/api/projects/{pid}/rank", json={"visitor_id": visitor})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "visitor_id"]
    shown(client, pid, "x" * 128)  # the longest allowed
    assert counted(sessions) == (1, 0)


def test_a_rank_names_exactly_one_shopper_and_a_customer_only_with_the_admin_token(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    pid = post_project(client, deals=1)["project_id"]
    url = f"/api/projects/{pid}/rank"
    shown(client, pid, "v-ann")
    ann = customer_of(sessions, "v-ann")
    for body in ({"visitor_id": "v-ann", "customer_id": ann}, {}, {"k": 1}):
        for headers in ({}, ADMIN):
            response = client.post(url, json=body, headers=headers)
            assert response.status_code == 422, body
            assert "exactly one of visitor_id and customer_id" in response.text
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        assert client.post(url, json={"customer_id": ann}, headers=headers).status_code == 401
    assert counted(sessions) == (1, 0)
    assert client.post(url, json={"customer_id": ann}, headers=ADMIN).status_code == 200
    assert counted(sessions) == (2, 0)


# The campaign's currency and the current campaign -----------------------------------------


def test_the_rank_answer_carries_the_campaign_s_currency(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    project = post_project(client, deals=2, currency="GBP")
    assert project["currency"] == "GBP"
    deals = shown(client, project["project_id"])
    assert [(d["price"], d["currency"]) for d in deals] == [("1.99", "GBP")] * 2
    assert client.get("/api/projects/current").json()["currency"] == "GBP"
    assert counted(sessions) == (2, 0)


@pytest.mark.parametrize("currency", ["eur", "EURO", "", "E1R", 978])
def test_a_currency_that_is_not_an_iso_code_is_422_naming_it(
    client: TestClient, sessions: sessionmaker[Session], currency: object
) -> None:
    response = client.post(
        "/api/projects",
        json={"project_name": "p", "bandits": [{"bandit_name": "a"}], "currency": currency},
        headers=ADMIN,
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "currency"]
    assert client.get("/api/projects", headers=ADMIN).json()["total"] == 0
    assert counted(sessions) == (0, 0)


def test_the_current_campaign_is_the_newest_running_one(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    def current() -> httpx.Response:
        return client.get("/api/projects/current")  # open: no token

    assert current().status_code == 404
    assert "none is running" in current().json()["detail"]
    older = post_project(client, project_name="Older")["project_id"]
    newer = post_project(client, project_name="Newer", slots=2)["project_id"]
    assert current().json() == {
        "project_id": newer,
        "project_name": "Newer",
        "currency": "EUR",
        "slots": 2,
    }
    client.patch(f"/api/projects/{newer}", json={"status": "paused"}, headers=ADMIN)
    assert current().json()["project_id"] == older
    client.patch(f"/api/projects/{older}", json={"status": "ended"}, headers=ADMIN)
    assert current().status_code == 404
    assert current().headers["content-type"] == "application/json"
    assert counted(sessions) == (0, 0)
