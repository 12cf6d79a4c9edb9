"""Forgetting and new deals' priors on the dashboard: the create and settings forms, the recent
columns beside the all-time ones, and where a fitted deal started, over HTTP on both backends.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_helpers import admin_sign_in, api_stats, section

from hotdeals.web.arm_table import fmt_weight
from hotdeals.web.learning import (
    beta_text,
    half_life_input,
    half_life_text,
    new_deal_prior_text,
    prior_note,
    recent_label,
)
from hotdeals.web.rendering import fmt_interval, fmt_pct
from tests.factories import ADMIN, post_project

RECENT_HEADINGS = ("Recent impressions", "Recent CTR", "95% (recent)")


def create(client: TestClient, csrf: str, **fields: str) -> Any:
    data = {"csrf": csrf, "project_name": "Weekly deals", "deals": "Figs\nKiwis\nPlums", **fields}
    return client.post("/admin/projects", data=data, follow_redirects=False)


def settings(client: TestClient, csrf: str, project_id: int, **fields: str) -> Any:
    return client.post(
        f"/admin/projects/{project_id}/settings",
        data={"csrf": csrf, **fields},
        follow_redirects=False,
    )


def stored(client: TestClient, project_id: int) -> dict[str, Any]:
    answer: dict[str, Any] = client.get(f"/api/projects/{project_id}", headers=ADMIN).json()
    return answer


def traffic(client: TestClient, project_id: int, views: int, clicked: str) -> None:
    """``views`` rankings of every slot; each impression of the deal named ``clicked`` is
    clicked."""
    for view in range(views):
        answer = client.post(
            f"/api/projects/{project_id}/rank", json={"visitor_id": f"v{view}"}, headers=ADMIN
        )
        assert answer.status_code == 200, answer.text
        for deal in answer.json()["deals"]:
            if deal["bandit_name"] == clicked:
                client.post("/api/clicks", json={"token": deal["click_token"]})


def cells(page: str, bandit_id: int) -> dict[str, str]:
    row = section(page, f'<tr data-bandit-id="{bandit_id}"', "</tr>")
    return dict(re.findall(r'data-field="(\w+)">([^<]*)<', row))


def headings(page: str) -> str:
    return str(section(page, 'id="arm-table"', "</thead>"))


def test_a_half_life_set_on_creation_shows_both_views_until_turned_off(
    client: TestClient,
) -> None:
    csrf = admin_sign_in(client)
    created = create(client, csrf, half_life_hours="72", new_deal_prior="empirical")
    assert created.status_code == 303, created.text
    pid = int(created.headers["location"].split("/")[-1].split("?")[0])
    assert (stored(client, pid)["half_life_hours"], stored(client, pid)["new_deal_prior"]) == (
        72.0,
        "empirical",
    )
    traffic(client, pid, 8, clicked="Kiwis")

    page = client.get(f"/admin/projects/{pid}").text
    learning = section(page, 'id="project-learning"', "</p>")
    assert 'data-field="half-life">half-life 72 h (3 days)</strong>' in learning
    assert "rank samples from the recent figures" in learning
    assert "a prior fitted to the other deals (else the campaign&#39;s Beta(1, 1))" in learning
    assert all(heading in headings(page) for heading in RECENT_HEADINGS)
    assert "Recent (half-life 72 h): the “recent” columns weigh" in page
    for deal in api_stats(client, pid)["bandits"]:  # the API's discounted view, as formatted
        assert deal["recent_impressions"] == pytest.approx(deal["impressions"], rel=1e-3)
        row = cells(page, deal["bandit_id"])
        assert row["recent_impressions"] == fmt_weight(deal["recent_impressions"])
        assert row["ctr_recent"] == fmt_pct(deal["recent_ctr"], 2)
        assert row["interval_recent"] == fmt_interval(deal["ci_low_recent"], deal["ci_high_recent"])
        assert row["ctr"] == fmt_pct(deal["ctr"], 2)  # the all-time view stays beside it
    feed = client.get(f"/admin/projects/{pid}/data.json").json()
    for row in feed["rows"]:  # the live refresh sends the very same cells
        assert {k: v for k, v in cells(page, row["bandit_id"]).items() if "recent" in k} == {
            k: v for k, v in row["cells"].items() if "recent" in k
        }
    form = section(page, 'id="settings"', "</form>")
    assert 'name="half_life_hours" inputmode="decimal" value="72"' in form
    assert '<option value="empirical" selected>' in form

    off = settings(client, csrf, pid, half_life_hours="", new_deal_prior="campaign")
    assert off.status_code == 303, off.text
    assert off.headers["location"].endswith("?done=settings#settings")
    page = client.get(off.headers["location"]).text
    assert "Settings saved" in page
    assert 'data-field="half-life">off</strong>: rank samples from the all-time figures' in page
    assert 'new deals start from <strong data-field="new-deal-prior">the campaign&#39;s' in page
    assert not any(heading in headings(page) for heading in RECENT_HEADINGS)
    assert (stored(client, pid)["half_life_hours"], stored(client, pid)["new_deal_prior"]) == (
        None,
        "campaign",
    )
    assert all(d["recent_ctr"] is None for d in api_stats(client, pid)["bandits"])


def test_the_recent_columns_appear_only_with_a_half_life(client: TestClient) -> None:
    pid = post_project(client, deals=2)["project_id"]
    csrf = admin_sign_in(client)
    fresh = client.get("/admin").text
    assert 'name="half_life_hours" inputmode="decimal" value=""' in fresh
    assert '<option value="campaign" selected>' in fresh
    page = client.get(f"/admin/projects/{pid}").text
    assert not any(heading in headings(page) for heading in RECENT_HEADINGS)
    assert 'id="recent-help"' not in page
    assert 'data-field="half-life">off</strong>' in page
    feed = client.get(f"/admin/projects/{pid}/data.json").json()
    assert all(row["cells"]["ctr_recent"] == "—" for row in feed["rows"])
    assert all(deal["recent_ctr"] is None for deal in feed["stats"]["bandits"])

    on = settings(client, csrf, pid, half_life_hours="1.5", new_deal_prior="campaign")
    assert on.status_code == 303, on.text
    page = client.get(f"/admin/projects/{pid}").text
    assert all(heading in headings(page) for heading in RECENT_HEADINGS)
    assert 'data-field="half-life">half-life 1.5 h</strong>' in page
    assert "Recent (half-life 1.5 h)" in page
    assert stored(client, pid)["half_life_hours"] == 1.5


def test_a_deal_fitted_to_the_others_says_where_it_starts(client: TestClient) -> None:
    project = post_project(client, deals=["Figs", "Kiwis", "Plums"], new_deal_prior="empirical")
    pid = project["project_id"]
    traffic(client, pid, 10, clicked="Figs")  # three slots: every deal shown, Figs clicked
    csrf = admin_sign_in(client)
    added = client.post(f"/admin/projects/{pid}/deals", data={"csrf": csrf, "bandit_name": "Dates"})
    assert "Deal added" in added.text
    deals = {
        d["bandit_name"]: d
        for d in client.get(f"/api/projects/{pid}/bandits", headers=ADMIN).json()
    }
    dates = deals["Dates"]
    assert (dates["prior_alpha"], dates["prior_beta"]) != (1.0, 1.0)  # fitted, not Beta(1, 1)
    fitted = beta_text(dates["prior_alpha"], dates["prior_beta"])
    note = f"starts from {fitted}: fitted to the other deals"
    assert note in section(added.text, f'<tr data-bandit-id="{dates["bandit_id"]}"', "</tr>")
    for name in ("Figs", "Kiwis", "Plums"):  # the campaign's own prior: nothing to say
        row = section(added.text, f'<tr data-bandit-id="{deals[name]["bandit_id"]}"', "</tr>")
        assert 'data-field="prior"' not in row


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"half_life_hours": "0"}, "Half-life (hours): Input should be greater than 0"),
        ({"half_life_hours": "-24"}, "Half-life (hours): Input should be greater than 0"),
        ({"half_life_hours": "3 days"}, "Half-life (hours): Input should be a valid number"),
        (
            {"half_life_hours": "9000"},
            "Half-life (hours): Input should be less than or equal to 8784",
        ),
        (
            {"new_deal_prior": "guess"},
            "New deals start from: Input should be &#39;campaign&#39; or &#39;empirical&#39;",
        ),
    ],
)
def test_a_bad_half_life_or_prior_is_explained_and_nothing_changes(
    client: TestClient, fields: dict[str, str], message: str
) -> None:
    csrf = admin_sign_in(client)
    refused = create(client, csrf, **fields)
    assert refused.status_code == 400
    assert "The campaign was not created" in refused.text
    assert message in refused.text
    assert all(f'value="{v}"' in refused.text for v in fields.values() if v != "guess")
    assert client.get("/api/projects", headers=ADMIN).json()["items"] == []

    pid = post_project(client, deals=2, half_life_hours=48)["project_id"]
    edited = settings(client, csrf, pid, **{"new_deal_prior": "campaign", **fields})
    assert edited.status_code == 400
    assert "That did not work" in edited.text
    assert message in edited.text
    form = section(edited.text, 'id="settings"', "</form>")
    if "half_life_hours" in fields:  # the form keeps what was typed
        assert f'value="{fields["half_life_hours"]}"' in form
    assert (stored(client, pid)["half_life_hours"], stored(client, pid)["new_deal_prior"]) == (
        48.0,
        "campaign",
    )


def test_forgetting_and_priors_are_worded_once() -> None:
    assert [half_life_text(h) for h in (None, 1.5, 36, 72, 168)] == [
        "off",
        "1.5 h",
        "36 h",
        "72 h (3 days)",
        "168 h (7 days)",
    ]
    assert [half_life_input(h) for h in (None, 72.0, 1.5)] == ["", "72", "1.5"]
    assert recent_label(72) == "Recent (half-life 72 h)"
    assert beta_text(2.13, 64.34) == "Beta(2.13, 64.3)"
    assert beta_text(0.05123, 1250.4) == "Beta(0.0512, 1,250)"
    assert prior_note((1.0, 1.0), (1.0, 1.0)) is None
    assert (
        prior_note((2.1, 64.3), (1.0, 1.0))
        == "starts from Beta(2.1, 64.3): fitted to the other deals"
    )
    assert new_deal_prior_text("campaign", 1, 1) == "the campaign's prior Beta(1, 1)"
    assert new_deal_prior_text("empirical", 1, 1) == (
        "a prior fitted to the other deals (else the campaign's Beta(1, 1))"
    )
