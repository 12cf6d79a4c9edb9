"""The pages' rate limits on both storages (memory and the real Redis): /signin, /guest, the
dashboard's sign-in and "Add to basket" floods, and a reloading shopper, each get a 429 page
with ``Retry-After`` once the limit is spent (nothing waits for a window to pass)."""

from __future__ import annotations

import httpx
import pytest
from web_helpers import click_tokens, csrf_of, transaction_ids, visitor_token

from tests.factories import TEST_ADMIN_TOKEN, post_project
from tests.support.rate_limits import limited_client

HIGH = "1000000/second"


def assert_page_refused(response: httpx.Response, window: int) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["Retry-After"]) <= window
    assert response.headers["content-type"].startswith("text/html")
    assert "try again in" in response.text


def test_sign_in_floods_get_a_429_page(
    configured: str, monkeypatch: pytest.MonkeyPatch, storage: str
) -> None:
    with limited_client(monkeypatch, storage, signin_per_ip="10/minute") as client:
        pid = post_project(client, deals=3)["project_id"]
        csrf = visitor_token(client)
        for i in range(10):
            data = {"csrf": csrf, "email": f"s{i}@example.com", "name": "S", "project": str(pid)}
            assert client.post("/signin", data=data, follow_redirects=False).status_code == 303
        flood = {"csrf": csrf, "email": "s99@example.com", "name": "S", "project": str(pid)}
        assert_page_refused(client.post("/signin", data=flood), 60)
        users = client.get("/api/users", headers={"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"})
        assert users.json()["total"] == 10  # the refused sign-in created nobody


def test_guest_floods_get_a_429_page(
    configured: str, monkeypatch: pytest.MonkeyPatch, storage: str
) -> None:
    with limited_client(monkeypatch, storage, guest_per_ip="10/minute") as client:
        csrf = visitor_token(client)
        answers = [
            client.post("/guest", data={"csrf": csrf}, follow_redirects=False).status_code
            for _ in range(10)
        ]
        assert answers == [303] * 10
        assert_page_refused(client.post("/guest", data={"csrf": csrf}), 60)
        assert client.post("/guest", data={"csrf": csrf}).status_code == 429


def test_wrong_tokens_at_the_dashboard_sign_in_get_a_429_page_but_the_right_one_works(
    configured: str, monkeypatch: pytest.MonkeyPatch, storage: str
) -> None:
    with limited_client(monkeypatch, storage, admin_failures_per_ip="10/minute") as client:
        csrf = csrf_of(client.get("/admin").text)
        wrong = {"csrf": csrf, "token": "guess"}
        answers = [client.post("/admin/login", data=wrong).status_code for _ in range(10)]
        assert answers == [401] * 10
        assert_page_refused(client.post("/admin/login", data=wrong), 60)
        # The same counter as the API's: the API refuses this address too.
        api = client.get("/api/projects", headers={"Authorization": "Bearer guess"})
        assert api.status_code == 429
        right = client.post("/admin/login", data={"csrf": csrf, "token": TEST_ADMIN_TOKEN})
        assert right.status_code == 200
        assert "Campaigns" in right.text


def test_basket_floods_per_customer_and_reload_floods_get_429_pages(
    configured: str, monkeypatch: pytest.MonkeyPatch, storage: str
) -> None:
    with limited_client(
        monkeypatch,
        storage,
        click_per_customer="3/minute",
        click_per_ip=HIGH,
        rank_per_customer="6/minute",
        rank_per_ip=HIGH,
    ) as client:
        pid = post_project(client, deals=3)["project_id"]
        csrf = visitor_token(client, f"/?project={pid}")
        page = client.post("/guest", data={"csrf": csrf, "project": str(pid)}).text  # rank 1
        tokens = click_tokens(page)
        for token in tokens:  # three clicks (redirects not followed: no ranking)
            data = {"csrf": csrf, "token": token, "project": str(pid)}
            assert client.post("/basket", data=data, follow_redirects=False).status_code == 303
        data = {"csrf": csrf, "token": tokens[0], "project": str(pid)}
        assert_page_refused(client.post("/basket", data=data), 60)
        assert client.get(f"/?project={pid}").status_code == 200  # rank 2
        for _ in range(4):  # ranks 3-6
            assert client.get(f"/?project={pid}").status_code == 200
        reload = client.get(f"/?project={pid}")  # rank 7: over the limit
        assert reload.status_code == 429
        assert 1 <= int(reload.headers["Retry-After"]) <= 60
        assert "Lots of browsing just now!" in reload.text
        assert transaction_ids(reload.text) == []  # nothing ranked, nothing logged
