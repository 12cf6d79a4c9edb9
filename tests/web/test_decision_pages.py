"""The campaign page's decision panel, its live feed, and ending a campaign through the
confirmation step, over HTTP on both backends.

Figures are compared with the API's ``/stats`` of the same app (one forecast cache, counts-seeded
Monte Carlo), so the page is checked for showing exactly what the service decided, worded as
the docs say.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from web_helpers import admin_sign_in, api_stats, section

from tests.factories import ADMIN, post_project, post_user

MINUS = "\u2212"


def signed(value: float) -> str:
    """How the panel words a number of clicks: rounded, "+" or a real minus sign."""
    rounded = round(value)
    return "0" if rounded == 0 else f"+{rounded:,}" if rounded > 0 else f"{MINUS}{-rounded:,}"


def slotted_traffic(client: TestClient, project_id: int, views: int, clicked: set[str]) -> None:
    """``views`` page views of all the campaign's slots; every impression of a deal named in
    ``clicked`` in slot 1, and every third one in lower slots, is clicked."""
    customer = post_user(client, f"c-{uuid.uuid4().hex[:8]}@example.com")
    for view in range(views):
        answer = client.post(
            f"/api/projects/{project_id}/rank", json={"customer_id": customer}, headers=ADMIN
        )
        assert answer.status_code == 200, answer.text
        for deal in answer.json()["deals"]:
            if deal["bandit_name"] in clicked and (deal["position"] == 1 or view % 3 == 0):
                client.post("/api/clicks", json={"token": deal["click_token"]})


def condition_cells(page: str, name: str) -> dict[str, str]:
    row = section(page, f'data-condition="{name}"', "</tr>")
    cells = dict(re.findall(r'data-field="(\w+)">([^<]*)<', row))
    cells["met_attr"] = re.search(r'data-met="(\w+)"', row).group(1)  # type: ignore[union-attr]
    return cells


# The panel ---------------------------------------------------------------------------------


def test_the_panel_shows_the_rule_the_forecast_the_uplift_and_the_strip(
    client: TestClient,
) -> None:
    project = post_project(client, deals=3, slots=2, min_impressions=10_000)
    pid = project["project_id"]
    slotted_traffic(client, pid, 40, {"Deal 2"})
    admin_sign_in(client)
    # Warm the forecast cache first: the request that computes the forecast draws the uplift's
    # interval from the same generator after it, so only later requests agree with each other.
    api_stats(client, pid)
    page = client.get(f"/admin/projects/{pid}").text
    api = api_stats(client, pid)
    decision = api["decision"]
    assert decision["state"] == "collecting"

    panel = section(page, 'id="decision"', "</section>")
    assert 'data-state="collecting"' in panel
    assert "Collecting evidence" in panel
    assert escape(decision["summary"]) in panel
    assert "Missing: " in decision["summary"]
    assert "leader's impressions" in decision["summary"]
    assert escape(decision["showing"]) in panel
    assert "thompson over 3 active deals in 2 slots" in panel
    by_name = {c["name"]: c for c in decision["conditions"]}
    assert set(by_name) == {"prob_best", "relative_loss", "leader_impressions"}
    prob = condition_cells(panel, "prob_best")
    assert prob["value"] == f"{by_name['prob_best']['value']:.2f}"
    assert prob["needed"] == "\u2265 0.95"
    floor = condition_cells(panel, "leader_impressions")
    assert floor["value"] == f"{int(by_name['leader_impressions']['value']):,}"
    assert (floor["needed"], floor["met"], floor["met_attr"]) == (
        "\u2265 10,000",
        "missing",
        "false",
    )
    loss = condition_cells(panel, "relative_loss")
    assert loss["needed"] == "&lt; 0.25%"
    assert loss["met"] == ("met" if by_name["relative_loss"]["met"] else "missing")
    for condition in decision["conditions"]:
        assert f'title="{escape(condition["text"])}"' in panel

    forecast = decision["forecast"]
    computed = datetime.fromisoformat(forecast["computed_at"]).astimezone(UTC)
    forecast_text = section(panel, 'data-decision="forecast">', "</dd>")
    assert forecast_text.startswith('data-decision="forecast">About ')
    assert "more impressions" in forecast_text
    assert "(90%: " in forecast_text
    assert "Simulated forward from the posteriors" in forecast_text
    assert f"computed at {computed:%Y-%m-%d %H:%M} UTC" in forecast_text

    uplift = decision["uplift"]
    assert uplift["clicks"] == sum(row["clicks"] for row in api["bandits"])
    assert (
        f"{signed(uplift['gained'])} clicks vs an even split "
        f"(95%: {signed(uplift['low'])} to {signed(uplift['high'])})"
    ) in panel
    examination = section(panel, 'data-decision="examination">', "</dd>")
    assert len(api["examination"]) == 2
    for slot, share in enumerate(api["examination"], start=1):
        assert f"slot {slot} {share:.0%}" in examination

    table = section(page, 'id="arm-table"', "</table>")
    assert "CTR in slot 1" in table
    for row in api["bandits"]:
        cells = section(table, f'data-bandit-id="{row["bandit_id"]}"', "</tr>")
        assert f'data-field="ctr_corrected">{row["ctr_corrected"] * 100:.2f}%<' in cells
        low, high = row["ci_low_corrected"] * 100, row["ci_high_corrected"] * 100
        assert f'data-field="interval_corrected">{low:.1f}\u2013{high:.1f}%<' in cells


def test_the_feed_carries_the_panel_and_the_apis_figures(client: TestClient) -> None:
    project = post_project(client, deals=2, slots=2)
    pid = project["project_id"]
    slotted_traffic(client, pid, 12, {"Deal 0"})
    admin_sign_in(client)
    api_stats(client, pid)  # the forecast cached (see the test above)
    data = client.get(f"/admin/projects/{pid}/data.json").json()
    api = api_stats(client, pid)
    assert data["stats"] == api
    assert data["project"] == {
        "project_id": pid,
        "project_name": project["project_name"],
        "status": "running",
        "effective_status": "running",
    }
    panel = data["decision"]
    assert panel["summary"] == api["decision"]["summary"]
    assert panel["showing"] == api["decision"]["showing"]
    assert [c["name"] for c in panel["conditions"]] == [
        c["name"] for c in api["decision"]["conditions"]
    ]
    assert [c["met"] for c in panel["conditions"]] == [
        c["met"] for c in api["decision"]["conditions"]
    ]
    page = client.get(f"/admin/projects/{pid}").text
    for key in ("summary", "showing", "forecast", "uplift", "examination", "state_label"):
        assert f'data-decision="{key}">{escape(panel[key])}<' in page, key
    assert [set(r["cells"]) for r in data["rows"]] == [
        {
            "impressions",
            "clicks",
            "ctr",
            "interval",
            "ctr_corrected",
            "interval_corrected",
            "recent_impressions",  # "—" while the campaign does not forget
            "ctr_recent",
            "interval_recent",
            "purchases",  # "0" and "—" without purchases: the columns stay hidden
            "conversion",
            "revenue_per_impression",
            "prob_best",
            "expected_loss",
            "share_24h",
            "state",
        }
    ] * 2


def test_a_campaign_of_one_slot_has_no_corrected_columns(client: TestClient) -> None:
    project = post_project(client, deals=2, slots=1)
    admin_sign_in(client)
    page = client.get(f"/admin/projects/{project['project_id']}").text
    assert "CTR in slot 1" not in page
    assert 'data-field="ctr_corrected"' not in page
    assert "Not estimated (one slot, or no impressions below slot 1 yet)." in page


def test_a_campaign_with_every_deal_off_still_has_a_panel_and_a_feed(client: TestClient) -> None:
    project = post_project(client, deals=2)
    pid = project["project_id"]
    for deal in project["bandits"]:
        client.patch(f"/api/bandits/{deal['bandit_id']}", json={"active": False}, headers=ADMIN)
    admin_sign_in(client)
    page = client.get(f"/admin/projects/{pid}")
    assert page.status_code == 200
    assert "No active deals to decide between." in page.text
    assert "None while no deal is being ranked (paused, or none active)." in page.text
    assert 'data-condition="prob_best"' not in page.text  # no leader: nothing to measure
    feed = client.get(f"/admin/projects/{pid}/data.json")
    assert feed.status_code == 200
    assert feed.json()["stats"]["decision"]["conditions"] == []


def test_a_winner_found_and_no_meaningful_difference_are_worded(client: TestClient) -> None:
    # With a loss bound of 90% of the leader's CTR, two untouched deals already "do not differ
    # meaningfully": the prior's expected loss is a third of its mean.
    tie = post_project(client, deals=2, min_impressions=0, max_relative_loss=0.9)
    admin_sign_in(client)
    page = client.get(f"/admin/projects/{tie['project_id']}").text
    assert 'data-state="no_meaningful_difference"' in page
    assert "No meaningful difference: ending with" in page
    assert "None needed: the rule has decided." in page
    clear = post_project(client, deals=["Figs", "Kiwis"], slots=1, min_impressions=20)
    pid = clear["project_id"]
    figs, kiwis = (b["bandit_id"] for b in clear["bandits"])
    client.patch(f"/api/bandits/{kiwis}", json={"active": False}, headers=ADMIN)
    slotted_traffic(client, pid, 30, {"Figs"})
    client.patch(f"/api/bandits/{kiwis}", json={"active": True}, headers=ADMIN)
    page = client.get(f"/admin/projects/{pid}").text
    assert api_stats(client, pid)["decision"]["state"] == "winner"
    assert 'data-state="winner"' in page
    assert "Winner found" in page
    assert "Winner: &#39;Figs&#39; is best with probability" in page
    assert "None needed: the rule has named a winner." in page
    assert f'<option value="{figs}" selected>Figs (suggested)</option>' in page


# Ending, with its confirmation ---------------------------------------------------------------


def test_ending_asks_first_and_says_what_the_strip_will_do(client: TestClient) -> None:
    project = post_project(client, deals=["Figs", "Kiwis"])
    pid, kiwis = project["project_id"], project["bandits"][1]["bandit_id"]
    admin_sign_in(client)
    page = client.get(f"/admin/projects/{pid}").text
    assert f'<form method="get" action="/admin/projects/{pid}/end"' in page
    ask = client.get(f"/admin/projects/{pid}/end", params={"winner_bandit_id": kiwis})
    assert ask.status_code == 200
    assert "End the campaign with &#39;Kiwis&#39; as the winner?" in ask.text
    assert "The strip will roll out &#39;Kiwis&#39;: it shows &#39;Kiwis&#39; in slot 1" in ask.text
    assert "Ending is final." in ask.text
    assert 'name="confirm" value="end"' in ask.text
    assert f'name="winner_bandit_id" value="{kiwis}"' in ask.text
    nobody = client.get(f"/admin/projects/{pid}/end").text
    assert "End the campaign without a winner?" in nobody
    assert "The strip will show nothing" in nobody
    assert 'name="winner_bandit_id" value=""' in nobody
    assert client.get(f"/api/projects/{pid}", headers=ADMIN).json()["status"] == "running"


@pytest.mark.parametrize("confirm", [None, "", "yes", "END"])
@pytest.mark.parametrize("winner", [True, False])
def test_an_unconfirmed_end_changes_nothing(
    client: TestClient, confirm: str | None, winner: bool
) -> None:
    project = post_project(client, deals=2)
    pid = project["project_id"]
    csrf = admin_sign_in(client)
    data = {"csrf": csrf, "status": "ended"}
    if winner:
        data["winner_bandit_id"] = str(project["bandits"][0]["bandit_id"])
    if confirm is not None:
        data["confirm"] = confirm
    response = client.post(f"/admin/projects/{pid}/status", data=data)
    assert response.status_code == 400
    assert "Not ended yet: confirm below to end the campaign." in response.text
    assert 'name="confirm" value="end"' in response.text  # the confirmation, shown again
    stored = client.get(f"/api/projects/{pid}", headers=ADMIN).json()
    assert (stored["status"], stored["winner_bandit_id"]) == ("running", None)


def test_ending_with_a_winner_rolls_it_out_and_the_page_says_so(client: TestClient) -> None:
    project = post_project(client, deals=["Figs", "Kiwis", "Dates"], slots=2)
    pid, kiwis = project["project_id"], project["bandits"][1]["bandit_id"]
    csrf = admin_sign_in(client)
    ended = client.post(
        f"/admin/projects/{pid}/status",
        data={"csrf": csrf, "status": "ended", "winner_bandit_id": str(kiwis), "confirm": "end"},
        follow_redirects=False,
    )
    assert ended.status_code == 303
    assert ended.headers["location"] == f"/admin/projects/{pid}?done=ended-rollout"
    page = client.get(ended.headers["location"]).text
    assert "Campaign ended with its winner: the strip now rolls it out." in page
    assert "This campaign has ended: the winner is Kiwis." in page
    rollout = "&#39;Kiwis&#39; in slot 1, then the other deals by posterior mean, no exploration"
    assert f"Rolling out: the strip shows {rollout}." in page
    assert f'data-decision="showing">{rollout}<' in page
    assert 'class="badge badge-rollout" data-field="status">rollout<' in page
    assert 'data-state="rollout"' in page
    assert "/end" not in section(page, 'id="controls-title"', "</section>")  # no second end
    shown = client.post(f"/api/projects/{pid}/rank", json={"visitor_id": "v1"}, headers=ADMIN)
    assert shown.status_code == 200  # what the page says is what the strip gets
    assert shown.json()["deals"][0]["bandit_name"] == "Kiwis"
    again = client.get(f"/admin/projects/{pid}/end")
    assert again.status_code == 409
    assert "This campaign has already ended." in again.text


def test_ending_without_a_winner_stops_the_strip_and_the_page_says_so(client: TestClient) -> None:
    project = post_project(client, deals=2)
    pid = project["project_id"]
    csrf = admin_sign_in(client)
    page = client.post(
        f"/admin/projects/{pid}/status",
        data={"csrf": csrf, "status": "ended", "winner_bandit_id": "", "confirm": "end"},
    ).text
    assert "Campaign ended without a winner: the strip shows nothing." in page
    assert "This campaign has ended without a winner." in page
    assert 'data-decision="showing">nothing<' in page
    assert 'class="badge badge-ended" data-field="status">ended<' in page
    refused = client.post(f"/api/projects/{pid}/rank", json={"visitor_id": "v1"}, headers=ADMIN)
    assert refused.status_code == 409


@pytest.mark.parametrize(
    ("winner", "message"),
    [("abc", "Choose the winner from the list."), ("999", "Choose the winner from the list.")],
)
def test_the_confirmation_refuses_a_winner_from_elsewhere(
    client: TestClient, winner: str, message: str
) -> None:
    project = post_project(client, deals=2)
    admin_sign_in(client)
    response = client.get(
        f"/admin/projects/{project['project_id']}/end", params={"winner_bandit_id": winner}
    )
    assert response.status_code == 400
    assert message in response.text


def test_the_confirmation_needs_a_session_and_a_campaign(client: TestClient) -> None:
    project = post_project(client, deals=2)
    assert 'name="token"' in client.get(f"/admin/projects/{project['project_id']}/end").text
    admin_sign_in(client)
    for missing in ("999", "abc"):
        response = client.get(f"/admin/projects/{missing}/end")
        assert response.status_code == 404
        assert "No such campaign" in response.text


def test_the_confirmation_points_at_the_rules_winner_when_ending_without_one(
    client: TestClient,
) -> None:
    project = post_project(client, deals=2, min_impressions=0, max_relative_loss=0.9)
    admin_sign_in(client)
    page = client.get(f"/admin/projects/{project['project_id']}/end").text
    winner: Any = api_stats(client, project["project_id"])["winner"]
    assert winner is not None
    assert f"The winner rule names <strong>{winner['bandit_name']}</strong>." in page
    assert "Decision panel now: No meaningful difference" in page
