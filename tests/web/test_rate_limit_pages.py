"""The pages' rate limits on both storages (memory and the real Redis): /signin, /guest and the
dashboard's sign-in floods each get a 429 page with ``Retry-After`` once the limit is spent; the
storefront's strip is held to the API's rank and click limits, for the customer it shows, while
page views themselves are not limited (nothing waits for a window to pass)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from web_helpers import csrf_of, strip_of, visitor_token

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


def test_the_strip_is_held_to_the_apis_limits_for_its_customer_and_page_views_are_not(
    configured: str, monkeypatch: pytest.MonkeyPatch, storage: str
) -> None:
    with limited_client(
        monkeypatch,
        storage,
        click_per_customer="3/minute",
        click_per_ip=HIGH,
        rank_per_customer="4/minute",
        rank_per_ip=HIGH,
    ) as client:
        pid = post_project(client, deals=3)["project_id"]
        csrf = visitor_token(client, f"/?project={pid}")
        response = client.post("/guest", data={"csrf": csrf, "project": str(pid)})
        customer = int(client.cookies["hd_customer"].split(".")[0])
        strip = strip_of(response.text)
        assert strip is not None

        def rank(**who: str | int) -> httpx.Response:
            """One page view's rank, as the strip sends it (or as the shop's backend would)."""
            headers = {"Idempotency-Key": uuid.uuid4().hex}
            if "customer_id" in who:
                headers["Authorization"] = f"Bearer {TEST_ADMIN_TOKEN}"
            return client.post(f"/api/projects/{pid}/rank", json=who, headers=headers)

        tokens = [d["click_token"] for d in rank(visitor_id=strip["visitor-id"]).json()["deals"]]
        assert rank(customer_id=customer).status_code == 200  # the same customer's counter
        assert rank(visitor_id=strip["visitor-id"]).status_code == 200
        assert rank(customer_id=customer).status_code == 200  # rank 4: the last one allowed
        refused = rank(visitor_id=strip["visitor-id"])
        assert refused.status_code == 429  # the strip draws nothing and says so
        assert 1 <= int(refused.headers["Retry-After"]) <= 60

        for token in tokens:  # three clicks on the strip's impressions
            assert client.post("/api/clicks", json={"token": token}).status_code == 200
        assert client.post("/api/clicks", json={"token": tokens[0]}).status_code == 429

        for _ in range(6):  # the page itself ranks nothing, so reloading is never refused
            page = client.get(f"/?project={pid}")
            assert page.status_code == 200
            assert "Retry-After" not in page.headers
            assert strip_of(page.text) == strip
