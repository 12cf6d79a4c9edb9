"""The objective on the dashboard: chosen on the create form, changed in the settings card (a
combination the API refuses is refused with its words, nothing changed), and the revenue chart
of a campaign that has purchases or ranks by them, over HTTP on both backends.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from html import escape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_helpers import admin_sign_in, section

from hotdeals.services.series import SeriesPoint
from hotdeals.vocabulary import Objective
from hotdeals.web import charts
from hotdeals.web.campaign_settings import OBJECTIVE_CHOICES
from tests.factories import ADMIN, post_project

CLICK_CAMPAIGN = {"objective": "click", "position_correction": True, "half_life_hours": None}


def stored(client: TestClient, project_id: int) -> dict[str, Any]:
    answer: dict[str, Any] = client.get(f"/api/projects/{project_id}", headers=ADMIN).json()
    return answer


def settings_of(client: TestClient, project_id: int) -> dict[str, Any]:
    project = stored(client, project_id)
    return {name: project[name] for name in CLICK_CAMPAIGN}


def post_settings(client: TestClient, csrf: str, project_id: int, **fields: str) -> Any:
    """The settings card as the browser sends it: every field, the campaign's own by default."""
    data = {
        "csrf": csrf,
        "objective": "click",
        "position_correction": "on",
        "half_life_hours": "",
        "new_deal_prior": "campaign",
        **fields,
    }
    return client.post(f"/admin/projects/{project_id}/settings", data=data, follow_redirects=False)


def selected(form: str, name: str) -> str:
    """The value of the option selected in the form's ``<select name=...>``."""
    options = section(form, f'name="{name}"', "</select>")
    chosen = [part for part in options.split("<option")[1:] if " selected>" in part]
    assert len(chosen) == 1, options
    return chosen[0].split('value="', 1)[1].split('"', 1)[0]


def card(page: str) -> str:
    return section(page, 'id="settings"', "</form>")


def buy(client: TestClient, transaction_id: int, value: str) -> None:
    answer = client.post(
        f"/api/transactions/{transaction_id}/purchase", json={"value": value}, headers=ADMIN
    )
    assert answer.status_code == 200, answer.text


# The settings card -----------------------------------------------------------------------


def test_the_settings_card_changes_the_objective(client: TestClient) -> None:
    pid = post_project(client, deals=2)["project_id"]
    csrf = admin_sign_in(client)
    page = client.get(f"/admin/projects/{pid}").text
    assert 'maximises <strong data-field="objective">clicks per impression</strong>' in page
    form = card(page)
    assert (selected(form, "objective"), selected(form, "position_correction")) == ("click", "on")
    options = section(form, 'name="objective"', "</select>")
    assert [f'value="{o.value}"' in options for o in Objective] == [True] * len(Objective)

    saved = post_settings(client, csrf, pid, objective="purchase", position_correction="off")
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"].endswith("?done=settings#settings")
    assert settings_of(client, pid) == {
        **CLICK_CAMPAIGN,
        "objective": "purchase",
        "position_correction": False,
    }
    page = client.get(saved.headers["location"]).text
    assert "Settings saved" in page
    assert 'maximises <strong data-field="objective">purchases per impression</strong>' in page
    assert "position correction <strong>off</strong>" in page
    form = card(page)
    assert (selected(form, "objective"), selected(form, "position_correction")) == (
        "purchase",
        "off",
    )

    back = post_settings(client, csrf, pid, objective="click", half_life_hours="48")
    assert back.status_code == 303, back.text
    assert settings_of(client, pid) == {**CLICK_CAMPAIGN, "half_life_hours": 48.0}


@pytest.mark.parametrize(
    ("campaign", "fields", "patch"),
    [
        # A click campaign's position correction is on: purchases cannot be corrected yet.
        ({}, {"objective": "purchase"}, {"objective": "purchase"}),
        (
            {},
            {"objective": "revenue", "position_correction": "off", "half_life_hours": "72"},
            {"objective": "revenue", "position_correction": False, "half_life_hours": 72},
        ),
        (
            {"policy": "ucb1"},
            {"objective": "revenue", "position_correction": "off", "new_deal_prior": "empirical"},
            {"objective": "revenue", "position_correction": False, "new_deal_prior": "empirical"},
        ),
    ],
)
def test_a_refused_combination_is_the_apis_message_and_nothing_changes(
    client: TestClient, campaign: dict[str, Any], fields: dict[str, str], patch: dict[str, Any]
) -> None:
    pid = post_project(client, deals=2, **campaign)["project_id"]
    before = stored(client, pid)
    api = client.patch(f"/api/projects/{pid}", json=patch, headers=ADMIN)
    assert api.status_code == 400
    message = api.json()["detail"]
    assert message.startswith(f"objective {fields['objective']}: ")

    csrf = admin_sign_in(client)
    refused = post_settings(client, csrf, pid, **fields)
    assert refused.status_code == 400
    assert "That did not work" in refused.text
    assert escape(message) in refused.text
    assert stored(client, pid) == before
    form = card(refused.text)  # the card keeps what was chosen
    assert selected(form, "objective") == fields["objective"]
    if "half_life_hours" in fields:
        assert f'value="{fields["half_life_hours"]}"' in form
    assert 'maximises <strong data-field="objective">clicks per impression</strong>' in refused.text


def test_an_unknown_objective_is_named_and_a_post_without_one_keeps_it(client: TestClient) -> None:
    pid = post_project(client, deals=2, objective="purchase")["project_id"]
    csrf = admin_sign_in(client)
    refused = post_settings(client, csrf, pid, objective="profit", position_correction="maybe")
    assert refused.status_code == 400
    assert (
        "Objective: Input should be &#39;click&#39;, &#39;purchase&#39; or &#39;revenue&#39;"
        in (refused.text)
    )
    assert "Position correction: Input should be a valid boolean" in refused.text
    assert stored(client, pid)["objective"] == "purchase"
    # A post that names neither (an older page, a script) leaves both as they are.
    kept = client.post(
        f"/admin/projects/{pid}/settings",
        data={"csrf": csrf, "half_life_hours": "", "new_deal_prior": "campaign"},
        follow_redirects=False,
    )
    assert kept.status_code == 303, kept.text
    assert (stored(client, pid)["objective"], stored(client, pid)["position_correction"]) == (
        "purchase",
        False,
    )


# The create form -------------------------------------------------------------------------


def test_the_create_form_makes_a_revenue_campaign(client: TestClient) -> None:
    csrf = admin_sign_in(client)
    fresh = client.get("/admin").text
    assert selected(fresh, "objective") == "click"
    options = section(fresh, 'name="objective"', "</select>")
    for value, label in OBJECTIVE_CHOICES.items():
        assert f'<option value="{value}"' in options
        assert f">{label}</option>" in options
    data = {"csrf": csrf, "project_name": "Revenue week", "deals": "Figs | 2.50\nKiwis | 1.20"}
    # The box is ticked on a fresh form: position correction is refused beside revenue.
    refused = client.post(
        "/admin/projects", data={**data, "objective": "revenue", "position_correction": "on"}
    )
    assert refused.status_code == 400
    assert "The campaign was not created" in refused.text
    assert "position_correction must be false" in refused.text
    assert selected(refused.text, "objective") == "revenue"
    assert client.get("/api/projects", headers=ADMIN).json()["items"] == []

    created = client.post(
        "/admin/projects", data={**data, "objective": "revenue"}, follow_redirects=False
    )
    assert created.status_code == 303, created.text
    (project,) = client.get("/api/projects", headers=ADMIN).json()["items"]
    assert (project["objective"], project["position_correction"], project["policy"]) == (
        "revenue",
        False,
        "thompson",
    )
    page = client.get(created.headers["location"]).text
    assert 'maximises <strong data-field="objective">revenue per impression</strong>' in page
    assert selected(card(page), "objective") == "revenue"


# The revenue chart -----------------------------------------------------------------------


def revenue_card(page: str) -> str:
    return section(page, 'id="revenue-card"', ">")


def test_the_revenue_chart_shows_once_a_campaign_has_a_purchase(client: TestClient) -> None:
    project = post_project(client, deals=2, currency="GBP")
    pid = project["project_id"]
    admin_sign_in(client)
    shown = client.post(f"/api/projects/{pid}/rank", json={"visitor_id": "v-1", "k": 2}).json()

    page = client.get(f"/admin/projects/{pid}").text
    assert " hidden" in revenue_card(page)
    feed = client.get(f"/admin/projects/{pid}/data.json").json()
    assert charts.REVENUE_CHART_ID not in feed["charts"]

    deals = {deal["bandit_id"]: deal for deal in shown["deals"]}
    first, second = (deal["bandit_id"] for deal in project["bandits"])
    buy(client, deals[first]["transaction_id"], "0.10")
    buy(client, deals[second]["transaction_id"], "1.20")

    page = client.get(f"/admin/projects/{pid}").text
    assert " hidden" not in revenue_card(page)
    assert "Revenue over time" in page
    assert 'id="chart-revenue"' in page
    feed = client.get(f"/admin/projects/{pid}/data.json").json()
    figure = feed["charts"][charts.REVENUE_CHART_ID]
    assert figure["layout"]["yaxis"]["title"]["text"] == "Revenue (GBP)"
    assert [trace["name"] for trace in figure["data"]] == ["Deal 0", "Deal 1"]
    assert [trace["y"] for trace in figure["data"]] == [[0.1], [1.2]]
    assert [trace["customdata"] for trace in figure["data"]] == [[1], [1]]
    assert feed["series"]["purchase_value"] == {str(first): ["0.10"], str(second): ["1.20"]}
    assert feed["series"]["purchases"] == {str(first): [1], str(second): [1]}
    assert "annotations" not in figure["layout"]


def test_a_purchase_campaign_shows_the_revenue_chart_before_its_first_purchase(
    client: TestClient,
) -> None:
    pid = post_project(client, deals=2, objective="purchase")["project_id"]
    admin_sign_in(client)
    page = client.get(f"/admin/projects/{pid}").text
    assert " hidden" not in revenue_card(page)
    figure = client.get(f"/admin/projects/{pid}/data.json").json()["charts"]["chart-revenue"]
    assert figure["layout"]["yaxis"]["title"]["text"] == "Revenue (EUR)"
    assert figure["layout"]["annotations"][0]["text"] == "No purchases yet"


def test_the_revenue_figure_sums_each_bucket_exactly() -> None:
    start = datetime(2026, 11, 30, 7, tzinfo=UTC)
    points = [
        SeriesPoint(start, 1, 3, 2, 2, Decimal("0.30")),
        SeriesPoint(start, 2, 1, 0),
        SeriesPoint(start.replace(hour=9), 2, 4, 1, 1, Decimal("1234.56")),
    ]
    series = charts.align(points, [1, 2], "hour")
    assert series.revenue == {
        1: [Decimal("0.30"), Decimal("0.00")],
        2: [Decimal("0.00"), Decimal("1234.56")],
    }
    assert series.purchases == {1: [2, 0], 2: [0, 1]}
    figure = charts.revenue_figure(series, {1: "Figs", 2: "Kiwis"}, charts.styles([1, 2]), "SEK")
    assert [trace["y"] for trace in figure["data"]] == [[0.3, 0.0], [0.0, 1234.56]]
    assert "SEK from %{customdata} purchases" in figure["data"][0]["hovertemplate"]
    assert figure["layout"]["xaxis"]["title"]["text"] == "Hour shown (UTC)"
