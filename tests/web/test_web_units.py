"""The pages' pure helpers: signatures, form parsing, chart figures and number formats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from hotdeals.config import Settings
from hotdeals.errors import DuplicateEmail
from hotdeals.http.state import AppState
from hotdeals.services import users
from hotdeals.services.analytics import DealStats, ProjectStats, SeriesPoint, Winner
from hotdeals.web import arm_table, charts, security
from hotdeals.web.forms import (
    DealForm,
    FormError,
    ProjectForm,
    deal_spec,
    parse_deal_lines,
    parse_id,
    project_spec,
)
from hotdeals.web.rendering import fmt_interval, fmt_pct
from hotdeals.web.storefront import sign_in_problems

KEY = b"k" * 32
NOW = 1_800_000_000


# Signatures ------------------------------------------------------------------------------


def test_a_session_lives_twelve_hours() -> None:
    session = security.new_admin_session(KEY, NOW)
    assert security.admin_session_valid(KEY, session, NOW)
    assert security.admin_session_valid(KEY, session, NOW + security.SESSION_TTL - 1)
    assert not security.admin_session_valid(KEY, session, NOW + security.SESSION_TTL)
    assert not security.admin_session_valid(KEY, session, NOW - 1)  # from the future
    assert not security.admin_session_valid(b"other", session, NOW)
    assert security.new_admin_session(KEY, NOW) != session  # a nonce in each


@pytest.mark.parametrize("value", [None, "", "1.2", "..", "x.y.z", "1.n." + "A" * 300])
def test_malformed_sessions_are_refused(value: str | None) -> None:
    assert not security.admin_session_valid(KEY, value, NOW)


def test_the_customer_cookie_round_trips_and_cannot_be_edited() -> None:
    cookie = security.customer_cookie(KEY, 42)
    assert security.customer_from_cookie(KEY, cookie) == 42
    signature = cookie.split(".", 1)[1]
    assert security.customer_from_cookie(KEY, f"43.{signature}") is None
    assert security.customer_from_cookie(b"other", cookie) is None
    assert security.customer_from_cookie(KEY, "42") is None


def test_a_signature_is_good_for_its_purpose_only() -> None:
    cookie_signature = security.customer_cookie(KEY, 7).split(".", 1)[1]
    assert not security.csrf_ok(KEY, "7", cookie_signature)
    token = security.csrf_token(KEY, "session-a")
    assert security.csrf_ok(KEY, "session-a", token)
    assert not security.csrf_ok(KEY, "session-b", token)
    assert not security.csrf_ok(KEY, None, token)
    assert not security.csrf_ok(KEY, "session-a", "")


def test_the_signing_key_is_the_secret_key_not_the_admin_token() -> None:
    def state(secret: str | None, token: str) -> AppState:
        settings = Settings(
            database_url="sqlite://", hotdeals_secret_key=secret, hotdeals_admin_token=token
        )
        return AppState.from_settings(settings)

    key = security.signing_key(state("s" * 32, "token"))
    assert key == b"s" * 32
    assert security.signing_key(state("s" * 32, "rotated token")) == key  # every worker agrees
    assert security.signing_key(state("another secret", "token")) != key
    unset = security.signing_key(state(None, "token"))
    assert len(unset) == 32
    assert security.signing_key(state(None, "token")) != unset  # random, per process


# Forms -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "maximum", "expected"),
    [("7", 10, 7), ("10", 10, 10), ("11", 10, None), ("0", 10, None), ("-1", 10, None)],
)
def test_parse_id_bounds(text: str, maximum: int, expected: int | None) -> None:
    assert parse_id(text, maximum) == expected


@pytest.mark.parametrize("text", [None, "", "abc", "1.5", "١٢", " 1"])
def test_parse_id_refuses_what_is_not_a_plain_number(text: str | None) -> None:
    assert parse_id(text) is None


def test_deal_lines_take_name_price_emoji_and_description() -> None:
    lines = parse_deal_lines("A | 1.50 | 🍓 | Sweet | and more\n\n  B  \nC | $2 ||")
    assert [(d.line, d.fields) for d in lines] == [
        (
            1,
            {"bandit_name": "A", "price": "1.50", "emoji": "🍓", "description": "Sweet | and more"},
        ),
        (3, {"bandit_name": "B", "price": None, "emoji": None, "description": None}),
        (4, {"bandit_name": "C", "price": "2", "emoji": None, "description": None}),
    ]


def test_project_spec_uses_the_api_limits_and_names_the_line() -> None:
    form = ProjectForm(project_name=" Week 1 ", policy="", slots="", deals="A | 1\nB")
    spec = project_spec(form)
    assert (spec.project_name, spec.policy, spec.slots) == ("Week 1", "thompson", 3)
    assert [(d.bandit_name, d.price) for d in spec.bandits] == [("A", Decimal("1")), ("B", None)]
    with pytest.raises(FormError) as error:
        project_spec(ProjectForm(project_name="W", slots="21", deals="A\n\nB | 1.234"))
    assert error.value.messages == [
        "Slots: Input should be less than or equal to 20",
        "Deals, line 3, price: Decimal input should have no more than 2 decimal places",
    ]


def test_a_deal_form_refuses_a_script_url() -> None:
    deal = deal_spec(
        DealForm(bandit_name="Pears", price="€0.99", emoji="🍐", image_url="https://x.test/p.png")
    )
    assert (deal.price, deal.image_url, deal.description) == (
        Decimal("0.99"),
        "https://x.test/p.png",
        None,
    )
    with pytest.raises(FormError, match="image URL"):
        deal_spec(DealForm(bandit_name="P", image_url="javascript:x"))


def test_a_form_model_is_text_with_the_forms_defaults_and_no_unknown_fields() -> None:
    fresh = ProjectForm()
    assert (fresh.policy, fresh.slots, fresh.project_name) == ("thompson", "3", "")
    assert ProjectForm.model_validate({"csrf": "t", "bandits": "A", "slots": "2"}) == ProjectForm(
        slots="2"
    )
    assert set(DealForm().model_dump().values()) == {""}


def test_sign_in_refusals_are_worded_for_the_shopper() -> None:
    assert sign_in_problems(users.EmailMissing("no email")) == ["Please enter your email address."]
    assert sign_in_problems(users.NameMissing("no name")) == [
        "Welcome! Please tell us your name so we can create your account."
    ]
    invalid = users.CustomerInvalid([("email", "not an address"), ("name", "too long")])
    assert sign_in_problems(invalid) == ["Email: not an address", "Name: too long"]
    assert sign_in_problems(DuplicateEmail("taken")) == ["Please try again."]


# Charts ----------------------------------------------------------------------------------


def deal(bandit_id: int, impressions: int, clicks: int, active: bool = True) -> DealStats:
    mean = (1 + clicks) / (2 + impressions)
    return DealStats(
        bandit_id=bandit_id,
        bandit_name=f"Deal {bandit_id}",
        active=active,
        impressions=impressions,
        clicks=clicks,
        ctr=clicks / impressions if impressions else 0.0,
        posterior_mean=mean,
        ci_low=mean / 2,
        ci_high=min(1.0, mean * 2),
        prob_best=0.5 if active else None,
        expected_loss=0.01 if active else None,
        share_last_24h=0.5,
    )


def arm(bandit_id: int, alpha: float, beta: float, active: bool = True) -> Any:
    return SimpleNamespace(
        bandit_id=bandit_id, bandit_name=f"Deal {bandit_id}", alpha=alpha, beta=beta, active=active
    )


def test_align_fills_gaps_with_zero_and_shares_sum_to_one() -> None:
    start = datetime(2026, 11, 30, 7, tzinfo=UTC)
    later = start + timedelta(hours=2)
    points = [
        SeriesPoint(start, 1, 3, 1),
        SeriesPoint(start, 2, 1, 0),
        SeriesPoint(later, 2, 4, 2),
    ]
    series = charts.align(points, [1, 2, 3], "hour")
    assert series.buckets == ["2026-11-30 07:00", "2026-11-30 09:00"]
    assert series.impressions == {1: [3, 0], 2: [1, 4], 3: [0, 0]}
    assert series.clicks == {1: [1, 0], 2: [0, 2], 3: [0, 0]}
    assert series.share == {1: [0.75, 0.0], 2: [0.25, 1.0], 3: [0.0, 0.0]}
    empty = charts.align([], [1], "day")
    assert (empty.buckets, empty.share) == ([], {1: []})


def test_every_deal_keeps_one_style_and_no_two_look_alike() -> None:
    styles = [charts.deal_style(i) for i in range(20)]
    assert len({(s.colour, s.dash) for s in styles}) == 20
    assert charts.styles([30, 10, 20])[10] == charts.deal_style(0)


def test_the_figures_carry_one_trace_per_deal() -> None:
    stats = ProjectStats(7, [deal(1, 100, 10), deal(2, 50, 1, active=False)], None)
    bandits = [arm(1, 11, 91), arm(2, 2, 50, active=False)]
    start = datetime(2026, 11, 30, tzinfo=UTC)
    series = charts.align(
        [SeriesPoint(start, 1, 100, 10), SeriesPoint(start, 2, 50, 1)], [1, 2], "day"
    )
    figures = charts.figures(stats, bandits, series)
    assert list(figures) == list(charts.CHART_IDS)
    for figure in figures.values():
        assert [t["name"] for t in figure["data"]] == ["Deal 1", "Deal 2"]
    ctr = figures["chart-ctr"]["data"]
    assert ctr[0]["x"] == [round(11 / 102, 6)]
    assert ctr[1]["marker"]["symbol"] == "circle-open"  # inactive
    posterior = figures["chart-posterior"]["data"]
    for trace, (a, b) in zip(posterior, [(11, 91), (2, 50)], strict=True):
        area = np.trapezoid(trace["y"], trace["x"])
        assert area == pytest.approx(1.0, abs=0.01)
        assert trace["x"][int(np.argmax(trace["y"]))] == pytest.approx(
            (a - 1) / (a + b - 2), abs=0.01
        )
    assert posterior[1]["line"]["dash"] == "dot"
    assert figures["chart-allocation"]["data"][0]["y"] == [pytest.approx(100 / 150, abs=1e-6)]
    assert [t["y"] for t in figures["chart-clicks"]["data"]] == [[10], [1]]


def test_charts_without_traffic_say_so() -> None:
    stats = ProjectStats(7, [deal(1, 0, 0)], None)
    figures = charts.figures(stats, [arm(1, 1, 1)], charts.align([], [1], "hour"))
    assert figures["chart-allocation"]["layout"]["annotations"][0]["text"] == "No impressions yet"
    assert figures["chart-clicks"]["layout"]["annotations"][0]["text"] == "No clicks yet"
    empty = charts.figures(ProjectStats(7, [], None), [], charts.align([], [], "hour"))
    assert all(figure["data"] == [] for figure in empty.values())


def test_hover_labels_show_a_deal_name_as_text() -> None:
    stats = ProjectStats(7, [deal(1, 10, 1)], None)
    bandits = [SimpleNamespace(**{**vars(arm(1, 2, 10)), "bandit_name": "<b>%{x}</b>"})]
    figure = charts.posterior_figure(bandits, charts.styles([1]))
    assert figure["data"][0]["hovertemplate"].startswith("&lt;b&gt;%&#123;x}&lt;/b&gt;<br>")
    assert arm_table.winner_text(stats) is None


def test_the_winner_and_the_totals_read_well() -> None:
    stats = ProjectStats(7, [deal(1, 300, 30), deal(2, 100, 2)], Winner(1, "Deal 1", 0.987))
    assert arm_table.winner_text(stats) == (
        "Deal 1 is the best deal with probability 98.7%. "
        "You can end the campaign with it as the winner."
    )
    assert arm_table.totals(stats) == arm_table.Totals("400", "32", "8.00%")
    row = arm_table.arm_rows(stats)[0]
    assert row.cells["ctr"] == "10.00%"
    assert row.cells["share_24h"] == "50.0%"
    assert tuple(row.cells) == arm_table.ROW_FIELDS


def test_a_winner_the_analyst_chose_is_worded_as_chosen() -> None:
    chosen = Winner(2, "Deal 2", 0.013, chosen=True)
    stats = ProjectStats(7, [deal(1, 300, 30), deal(2, 100, 2)], chosen)
    assert (
        arm_table.winner_text(stats) == "Deal 2 was chosen as the winner when the campaign ended."
    )


# Formats ---------------------------------------------------------------------------------


def test_number_formats() -> None:
    assert fmt_pct(None) == "—"
    assert fmt_pct(0.12345, 2) == "12.35%"
    assert fmt_interval(0.012, 0.0456) == "1.2\u20134.6%"
