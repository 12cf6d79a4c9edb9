"""The pages' pure helpers: signatures, form parsing, chart figures, the decision panel's
words, times and number formats."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotdeals.config import Settings
from hotdeals.errors import DuplicateEmail
from hotdeals.http.state import AppState
from hotdeals.services import users
from hotdeals.services.analytics import DealStats, ProjectStats, Winner
from hotdeals.services.decisions import Condition, Decision, ForecastView, UpliftView
from hotdeals.services.purchase_stats import PurchaseFigures
from hotdeals.services.series import SeriesPoint
from hotdeals.vocabulary import (
    DEFAULT_MAX_RELATIVE_LOSS,
    DEFAULT_MIN_PROB_BEST,
    DEFAULT_POSITION_CORRECTION,
)
from hotdeals.web import arm_table, charts, decision_panel, security, windows
from hotdeals.web.forms import (
    DealForm,
    FormError,
    ProjectForm,
    WindowForm,
    deal_spec,
    parse_deal_lines,
    parse_id,
    project_spec,
    window_changes,
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


def test_the_create_forms_settings_become_the_spec() -> None:
    spec = project_spec(
        ProjectForm(
            project_name="W",
            starts_at="2030-12-07T00:00",
            ends_at="2030-12-13T23:59+01:00",
            end_action="rollout",
            min_prob_best="97%",
            max_relative_loss="0.5%",
            min_impressions="50",
            min_duration_days="7",
            position_correction="on",
        )
    )
    assert spec.starts_at == datetime(2030, 12, 7, tzinfo=UTC)
    assert spec.ends_at == datetime(2030, 12, 13, 22, 59, tzinfo=UTC)  # its offset is kept
    assert (spec.end_action, spec.min_impressions, spec.min_duration_days) == ("rollout", 50, 7)
    assert spec.min_prob_best == pytest.approx(0.97)
    assert spec.max_relative_loss == pytest.approx(0.005)
    assert spec.position_correction
    assert project_spec(
        ProjectForm(project_name="W", max_relative_loss="0.001")
    ).max_relative_loss == (0.001)


def test_a_fresh_create_form_holds_the_services_defaults() -> None:
    fresh = ProjectForm.fresh()
    spec = project_spec(fresh.model_copy(update={"project_name": "W"}))
    assert spec.min_prob_best == DEFAULT_MIN_PROB_BEST
    assert spec.max_relative_loss == pytest.approx(DEFAULT_MAX_RELATIVE_LOSS)
    assert (fresh.position_correction == "on") is DEFAULT_POSITION_CORRECTION
    # Blank settings are the defaults too; an unticked box (no field at all) is off.
    blank = ProjectForm(project_name="W", min_prob_best=" ", max_relative_loss="", slots="")
    assert project_spec(blank).min_prob_best == DEFAULT_MIN_PROB_BEST
    assert not project_spec(ProjectForm(project_name="W")).position_correction


def test_times_in_forms_are_utc_and_unreadable_ones_are_named() -> None:
    deal = deal_spec(DealForm(bandit_name="Figs", starts_at=" 2030-12-07 08:30 ", ends_at=""))
    assert (deal.starts_at, deal.ends_at) == (datetime(2030, 12, 7, 8, 30, tzinfo=UTC), None)
    with pytest.raises(FormError) as error:
        deal_spec(DealForm(bandit_name="", ends_at="Sunday"))
    assert error.value.messages == [
        "Ends (UTC): enter a date and time such as 2026-12-07 00:00",
        "name: String should have at least 1 character",
    ]
    assert window_changes(WindowForm(starts_at="2030-12-07")) == {
        "starts_at": datetime(2030, 12, 7, tzinfo=UTC),
        "ends_at": None,
    }
    with pytest.raises(FormError, match="Starts"):
        window_changes(WindowForm(starts_at="12/07/2030"))


@given(st.datetimes(timezones=st.just(UTC)))
def test_a_time_shown_in_a_form_reads_back_as_the_same_minute(moment: datetime) -> None:
    assert windows.parse_moment(windows.input_value(moment)) == moment.replace(
        second=0, microsecond=0
    )


def test_windows_are_half_open_and_worded() -> None:
    start, end = datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 1, 2, tzinfo=UTC)
    second = timedelta(seconds=1)
    assert [
        windows.deal_state(True, start, end, t) for t in (start - second, start, end - second, end)
    ] == [
        "scheduled",
        "active",
        "active",
        "expired",
    ]
    assert windows.deal_state(False, start, end, start) == "inactive"
    assert windows.deal_state(True, None, None, start) == "active"
    assert windows.window_text(None, None) == "always"
    assert windows.window_text(start, None) == "from 2030-01-01 00:00 UTC"
    assert windows.window_text(None, end) == "until 2030-01-02 00:00 UTC"
    assert windows.window_text(start, end) == "2030-01-01 00:00 to 2030-01-02 00:00 UTC"
    assert windows.parse_moment("") is None
    with pytest.raises(ValueError, match="isoformat"):
        windows.parse_moment("tomorrow")


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


def test_the_purchase_columns_show_once_a_deal_has_a_purchase() -> None:
    plain = ProjectStats(7, [deal(1, 300, 30), deal(2, 100, 2)], None)
    assert not arm_table.shows_purchases(plain)
    assert "purchases" not in [c.field for c in arm_table.columns(False)]
    figures = PurchaseFigures(0.0125, 0.01, 0.015, 0.0432, 0.03, 0.06, 0.43, 0.3, 0.6)
    bought = dataclasses.replace(deal(1, 300, 30), purchases=4, purchase=figures)
    stats = ProjectStats(7, [bought, deal(2, 100, 2)], None)
    assert arm_table.shows_purchases(stats)
    fields = [c.field for c in arm_table.columns(False, purchased=True)]
    assert fields[fields.index("purchases") :][:3] == [
        "purchases",
        "conversion",
        "revenue_per_impression",
    ]
    cells = [row.cells for row in arm_table.arm_rows(stats)]
    assert (cells[0]["purchases"], cells[0]["conversion"]) == ("4", "1.25%")
    assert cells[0]["revenue_per_impression"] == "0.0432"
    assert (cells[1]["purchases"], cells[1]["revenue_per_impression"]) == ("0", "\u2014")


def test_a_winner_the_analyst_chose_is_worded_as_chosen() -> None:
    chosen = Winner(2, "Deal 2", 0.013, chosen=True)
    stats = ProjectStats(7, [deal(1, 300, 30), deal(2, 100, 2)], chosen)
    assert (
        arm_table.winner_text(stats) == "Deal 2 was chosen as the winner when the campaign ended."
    )


# The decision panel ----------------------------------------------------------------------


def decision(**changes: Any) -> Decision:
    base: dict[str, Any] = {
        "state": "collecting",
        "summary": "No decision yet; leader 'Deal 1'. Missing: P(best) 0.83 of 0.95.",
        "showing": "thompson over 2 active deals in 2 slots",
        "leader_bandit_id": 1,
        "leader_name": "Deal 1",
        "conditions": [
            Condition("prob_best", 0.8312, 0.95, False, "P(best) 0.83 of 0.95"),
            Condition("relative_loss", 0.0123, 0.0025, False, "expected loss 1.23% ..."),
            Condition("leader_impressions", 1234.0, 100.0, True, "leader's impressions 1,234"),
            Condition("duration_days", 2.04, 7.0, False, "running 2.0 of 7 days"),
        ],
        "missing": [],
        "forecast": None,
        "uplift": None,
    }
    return Decision(**{**base, **changes})


def forecast(**changes: Any) -> ForecastView:
    base: dict[str, Any] = {
        "impressions_median": 1234.0,
        "impressions_p90": 5678.0,
        "days_median": 2.34,
        "days_p90": 12.6,
        "decided_share": 0.97,
        "horizon": 100_000,
        "paths": 32,
        "computed_at": datetime(2030, 1, 1, 9, 30, tzinfo=UTC),
    }
    return ForecastView(**{**base, **changes})


def test_each_condition_reads_value_against_threshold() -> None:
    rows = [decision_panel.condition_row(c) for c in decision().conditions]
    assert [(r.value, r.needed, r.met) for r in rows] == [
        ("0.83", "≥ 0.95", False),
        ("1.23%", "< 0.25%", False),
        ("1,234", "≥ 100", True),
        ("2.0", "≥ 7", False),
    ]
    off = decision_panel.condition_row(Condition("relative_loss", 0.5, 0.0, False, ""))
    assert off.needed == "off"
    nothing = decision_panel.condition_row(Condition("prob_best", float("nan"), 0.95, False, ""))
    assert nothing.value == "—"


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        (
            {},
            "About 1,200 more impressions, ~2.3 days at current traffic (90%: 5,700 "
            "impressions, ~13 days). Simulated forward from the posteriors (32 paths of up to "
            "100,000 impressions), computed at 2030-01-01 09:30 UTC.",
        ),
        (
            {"days_median": None, "days_p90": None},
            "About 1,200 more impressions (90%: 5,700 impressions); no traffic in the last 24 "
            "hours to time it.",
        ),
        (
            {"impressions_p90": None, "days_p90": None, "days_median": 0.2},
            "About 1,200 more impressions, ~5 hours at current traffic (90%: more than 100,000 "
            "impressions).",
        ),
        (
            {"impressions_median": None, "impressions_p90": None, "decided_share": 0.31},
            "Not within 100,000 more impressions on most paths: 31% of them decide.",
        ),
    ],
)
def test_the_forecast_sentence(changes: dict[str, Any], text: str) -> None:
    assert decision_panel.forecast_text(decision(forecast=forecast(**changes))).startswith(text)


@pytest.mark.parametrize(
    ("state", "text"),
    [
        ("winner", "None needed: the rule has named a winner."),
        ("no_meaningful_difference", "None needed: the rule has decided."),
        ("rollout", "None: the campaign has ended."),
        ("collecting", "None while no deal is being ranked (paused, or none active)."),
    ],
)
def test_without_a_forecast_the_panel_says_why(state: str, text: str) -> None:
    assert decision_panel.forecast_text(decision(state=state)) == text


def test_counts_are_rounded_as_a_forecast_deserves() -> None:
    assert [decision_panel.about(n) for n in (0, 37.4, 99.6, 123, 1_234, 98_765)] == [
        "0",
        "37",
        "100",
        "120",
        "1,200",
        "99,000",
    ]
    assert [decision_panel.days_text(d) for d in (0.01, 0.5, 1.25, 9.94, 12.6)] == [
        "under an hour",
        "~12 hours",
        "~1.2 days",
        "~9.9 days",
        "~13 days",
    ]


def test_the_uplift_and_the_slots_in_words() -> None:
    uplift = UpliftView(clicks=120, even_expected=100.4, gained=19.6, low=-3.2, high=41.5)
    assert decision_panel.uplift_text(uplift) == (
        "+20 clicks vs an even split (95%: \u22123 to +42): 120 clicks so far, 100.4 expected "
        "had every deal been shown equally."
    )
    assert decision_panel.uplift_text(None) == "No impressions in the slots yet."
    assert decision_panel.signed(-0.4) == "0"
    assert decision_panel.examination_text([1.0, 0.754, 0.6]) == (
        "slot 1 100%, slot 2 75%, slot 3 60% (fitted from the per-slot counts)."
    )


def test_the_panel_of_a_campaign() -> None:
    stats = ProjectStats(7, [deal(1, 300, 30)], None, decision(state="winner"), [1.0, 0.7])
    shown = decision_panel.panel(stats)
    assert shown is not None
    assert (shown.state_label, shown.showing) == (
        "Winner found",
        "thompson over 2 active deals in 2 slots",
    )
    assert [c.name for c in shown.conditions] == [
        "prob_best",
        "relative_loss",
        "leader_impressions",
        "duration_days",
    ]
    assert decision_panel.panel(ProjectStats(7, [], None)) is None
    assert set(decision_panel.STATE_LABELS) == {
        "collecting",
        "winner",
        "no_meaningful_difference",
        "rollout",
        "ended",
    }


# Formats ---------------------------------------------------------------------------------


def test_number_formats() -> None:
    assert fmt_pct(None) == "—"
    assert fmt_pct(0.12345, 2) == "12.35%"
    assert fmt_interval(0.012, 0.0456) == "1.2\u20134.6%"
