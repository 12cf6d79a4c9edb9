"""The dashboard's two pages: the campaign list (with its create form) and one campaign's page.

Both are read from the services (:mod:`hotdeals.services.projects`, the figures and the
decision panel from :mod:`hotdeals.services.analytics`) at the app's clock, and shown to a
signed-in analyst only (:mod:`.dashboard_auth`); the controls (:mod:`.dashboard_controls`,
:mod:`.dashboard_end`) render them again with a form's errors and values when a change is
refused. What a campaign looks like on them is :mod:`.project_view`.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from hotdeals.errors import ProjectNotFound
from hotdeals.http.deps import StateDep
from hotdeals.http.state import AppState
from hotdeals.services import analytics, projects
from hotdeals.vocabulary import MAX_SLOTS, EndAction, Objective, PolicyName
from hotdeals.web import arm_table, busiest, charts
from hotdeals.web.assets import PLOTLY_URL
from hotdeals.web.campaign_settings import (
    OBJECTIVE_CHOICES,
    OBJECTIVE_HELP,
    POSITION_CORRECTION_CHOICES,
    SettingsForm,
)
from hotdeals.web.cookies import Admin
from hotdeals.web.dashboard_auth import PageAdmin, problem_page
from hotdeals.web.decision_panel import Panel, panel
from hotdeals.web.errors import ShowPage
from hotdeals.web.forms import DEAL_LINE_HELP, DealForm, ProjectForm, parse_id
from hotdeals.web.learning import FIT_NEEDS, NEW_DEAL_PRIOR_CHOICES
from hotdeals.web.project_view import ProjectView, project_row, project_view, status_notice
from hotdeals.web.rendering import render
from hotdeals.web.windows import ZONE

router = APIRouter(prefix="/admin", include_in_schema=False)

PAGE_SIZE = 50
REFRESH_MS = 5000

# What a control did, shown once after its redirect (``?done=<code>``).
DONE = {
    "created": "Campaign created and running: the storefront can show it now.",
    "paused": "Campaign paused: the storefront shows a “come back soon” message.",
    "resumed": "Campaign resumed: the storefront ranks its deals again.",
    "ended": "Campaign ended without a winner: the strip shows nothing. This is final; its "
    "figures stay here.",
    "ended-rollout": "Campaign ended with its winner: the strip now rolls it out. This is final; "
    "its figures stay here.",
    "deal-added": "Deal added: it starts at the prior, so the policy explores it at once.",
    "deal-off": "Deal deactivated: it is no longer shown; its history is kept.",
    "deal-on": "Deal reactivated: it is ranked again.",
    "deal-window": "Deal window saved: the strip ranks the deal inside it only.",
    "settings": "Settings saved: rank uses them from now on (a new objective ranks from every "
    "counter at once; a new half-life weighs the whole log anew).",
}


def flash(request: Request) -> str | None:
    return DONE.get(request.query_params.get("done", ""))


# Ids in paths -----------------------------------------------------------------------------


def not_found(what: str) -> Response:
    return problem_page(f"No such {what}", f"That {what} does not exist.", 404)


async def path_project_id(project_id: str) -> int:
    """The campaign a path names; an id that cannot exist is a 404 page like an unknown one."""
    parsed = parse_id(project_id)
    if parsed is None:
        raise ShowPage(not_found("campaign"))
    return parsed


async def path_bandit_id(bandit_id: str) -> int:
    """The deal a path names; an id that cannot exist is a 404 page like an unknown one."""
    parsed = parse_id(bandit_id)
    if parsed is None:
        raise ShowPage(not_found("deal"))
    return parsed


# Declared after the admin in a route's parameters, so a stranger is refused before any id
# is looked at (FastAPI solves dependencies in their order).
ProjectId = Annotated[int, Depends(path_project_id)]
BanditId = Annotated[int, Depends(path_bandit_id)]


# Campaign list ---------------------------------------------------------------------------


def projects_page(
    request: Request,
    state: AppState,
    admin: Admin,
    *,
    errors: list[str] | None = None,
    form: ProjectForm | None = None,
    status_code: int = 200,
) -> Response:
    offset = parse_id(request.query_params.get("offset")) or 0
    now = state.clock()
    with state.sessions() as session:
        page = projects.list_projects(session, limit=PAGE_SIZE, offset=offset)
        rows = [project_row(p, now) for p in page.items]
    return render(
        "admin_projects.html",
        {
            "admin_csrf": admin.csrf,
            "rows": rows,
            "total": page.total,
            "offset": offset,
            "page_size": PAGE_SIZE,
            "flash": flash(request),
            "errors": errors or [],
            "values": form or ProjectForm.fresh(),
            "policies": list(PolicyName),
            "objective_choices": OBJECTIVE_CHOICES,
            "objective_help": OBJECTIVE_HELP,
            "end_actions": list(EndAction),
            "zone": ZONE,
            "max_slots": MAX_SLOTS,
            "deal_help": DEAL_LINE_HELP,
            "prior_choices": NEW_DEAL_PRIOR_CHOICES,
            "fit_needs": FIT_NEEDS,
        },
        status_code=status_code,
    )


@router.get("")
def dashboard(request: Request, state: StateDep, admin: PageAdmin) -> Response:
    """The campaigns (newest first) with their totals and the create form."""
    return projects_page(request, state, admin)


# One campaign ----------------------------------------------------------------------------


def load_project(state: AppState, project_id: int) -> tuple[ProjectView, analytics.ProjectStats]:
    """The campaign and its figures at the app's clock (the forecast from its cache)."""
    now = state.clock()
    with state.sessions() as session:
        project = projects.get_project(session, project_id)
        stats = analytics.project_stats(
            session,
            project_id,
            draws=state.settings.hotdeals_stats_draws,
            now=now,
            caches=state.stats_caches,
        )
        return project_view(project, now), stats


def revenue_currency(view: ProjectView, stats: analytics.ProjectStats) -> str | None:
    """The currency of the revenue chart, for a campaign that ranks by purchases or revenue or
    has a purchase at all; None (no chart) for a click campaign without one."""
    if view.objective != Objective.CLICK or arm_table.shows_purchases(stats):
        return view.currency
    return None


def figures_context(
    view: ProjectView, stats: analytics.ProjectStats, every: bool = False
) -> dict[str, Any]:
    """The figures of the page, as its live feed sends them again (:mod:`.dashboard_data`):
    the table's rows of the deals it lists (:func:`.busiest.listed`; all with ``every``), the
    rest of every deal."""
    corrected = arm_table.shows_corrected(stats, view.slots)
    shown = busiest.listed(stats, every)
    return {
        "listed": shown,
        "revenue_in": revenue_currency(view, stats),
        "rows": arm_table.arm_rows(shown, {d.bandit_id: d.state for d in view.deals}),
        "columns": arm_table.columns(
            corrected,
            recent=view.half_life_hours is not None,
            purchased=arm_table.shows_purchases(stats),
        ),
        "totals": arm_table.totals(stats),
        "winner": arm_table.winner_text(stats),
        "panel": panel(stats),
    }


def panel_payload(shown: Panel | None) -> dict[str, Any] | None:
    return asdict(shown) if shown is not None else None


def project_page(
    request: Request,
    state: AppState,
    admin: Admin,
    project_id: int,
    *,
    errors: list[str] | None = None,
    form: DealForm | None = None,
    settings: SettingsForm | None = None,
    status_code: int = 200,
) -> Response:
    """The campaign's page; a refused form comes back with its errors and what was typed."""
    try:
        view, stats = load_project(state, project_id)
    except ProjectNotFound as exc:
        return problem_page("No such campaign", str(exc).capitalize() + ".", 404)
    every = request.query_params.get("deals") == "all"
    context = figures_context(view, stats, every)
    shown: analytics.ProjectStats = context["listed"]
    panel_shown: Panel | None = context["panel"]
    current = SettingsForm.of(
        view.objective, view.position_correction, view.half_life_hours, view.new_deal_prior
    )
    return render(
        "admin_project.html",
        {
            **context,
            "admin_csrf": admin.csrf,
            "project": view,
            "every": every,
            "listed_ids": {deal.bandit_id for deal in shown.bandits},
            "deal_count": len(stats.bandits),
            "max_listed": busiest.MAX_LISTED,
            "notice": status_notice(view, panel_shown.showing if panel_shown else "nothing"),
            "suggested": stats.winner.bandit_id if stats.winner else None,
            "flash": flash(request),
            "errors": errors or [],
            "values": form or DealForm(),
            "settings": current if settings is None else settings.filled(current),
            "objective_choices": OBJECTIVE_CHOICES,
            "objective_help": OBJECTIVE_HELP,
            "correction_choices": POSITION_CORRECTION_CHOICES,
            "prior_choices": NEW_DEAL_PRIOR_CHOICES,
            "fit_needs": FIT_NEEDS,
            "zone": ZONE,
            "plotly_url": PLOTLY_URL,
            "refresh_ms": REFRESH_MS,
            "chart_ids": charts.CHART_IDS,
            "revenue_chart": charts.REVENUE_CHART_ID,
        },
        status_code=status_code,
    )


@router.get("/projects/{project_id}")
def project_detail(
    request: Request, state: StateDep, admin: PageAdmin, project_id: ProjectId
) -> Response:
    """The decision panel, the arm table, the charts and the controls of one campaign."""
    return project_page(request, state, admin, project_id)
