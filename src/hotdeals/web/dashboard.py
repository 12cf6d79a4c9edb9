"""The dashboard's two pages: the campaign list (with its create form) and one campaign's page.

Both are read from the services (:mod:`hotdeals.services.projects`, the figures from
:mod:`hotdeals.services.analytics`) and shown to a signed-in analyst only
(:mod:`.dashboard_auth`); the controls (:mod:`.dashboard_controls`) render them again with a
form's errors and values when a change is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from hotdeals.errors import ProjectNotFound
from hotdeals.http.deps import StateDep
from hotdeals.http.state import AppState
from hotdeals.services import analytics, projects
from hotdeals.vocabulary import MAX_SLOTS, PolicyName
from hotdeals.web import arm_table, charts
from hotdeals.web.assets import PLOTLY_URL
from hotdeals.web.cookies import Admin
from hotdeals.web.dashboard_auth import PageAdmin, problem_page
from hotdeals.web.errors import ShowPage
from hotdeals.web.forms import DEAL_LINE_HELP, DealForm, ProjectForm, parse_id
from hotdeals.web.rendering import render

router = APIRouter(prefix="/admin", include_in_schema=False)

PAGE_SIZE = 50
REFRESH_MS = 5000

# What a control did, shown once after its redirect (``?done=<code>``).
DONE = {
    "created": "Campaign created and running: the storefront can show it now.",
    "paused": "Campaign paused: the storefront shows a “come back soon” message.",
    "resumed": "Campaign resumed: the storefront ranks its deals again.",
    "ended": "Campaign ended. This is final; its figures stay here.",
    "deal-added": "Deal added: it starts at the prior, so the policy explores it at once.",
    "deal-off": "Deal deactivated: it is no longer shown; its history is kept.",
    "deal-on": "Deal reactivated: it is ranked again.",
}


def stamp(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else ""


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


@dataclass(frozen=True, slots=True)
class ProjectRow:
    project_id: int
    name: str
    status: str
    deals: int
    active_deals: int
    impressions: int
    clicks: int
    ctr: float | None
    created: str


def load_projects(state: AppState, offset: int) -> tuple[list[ProjectRow], int]:
    with state.sessions() as session:
        page = projects.list_projects(session, limit=PAGE_SIZE, offset=offset)
        rows = []
        for p in page.items:
            shown = sum(b.n for b in p.bandits)
            clicked = sum(b.number_of_success for b in p.bandits)
            rows.append(
                ProjectRow(
                    project_id=p.project_id,
                    name=p.project_name,
                    status=p.status,
                    deals=p.number_of_bandits,
                    active_deals=sum(1 for b in p.bandits if b.active),
                    impressions=shown,
                    clicks=clicked,
                    ctr=clicked / shown if shown else None,
                    created=stamp(p.created_at),
                )
            )
        return rows, page.total


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
    rows, total = load_projects(state, offset)
    return render(
        "admin_projects.html",
        {
            "admin_csrf": admin.csrf,
            "rows": rows,
            "total": total,
            "offset": offset,
            "page_size": PAGE_SIZE,
            "flash": flash(request),
            "errors": errors or [],
            "values": form or ProjectForm(),
            "policies": list(PolicyName),
            "max_slots": MAX_SLOTS,
            "deal_help": DEAL_LINE_HELP,
        },
        status_code=status_code,
    )


@router.get("")
def dashboard(request: Request, state: StateDep, admin: PageAdmin) -> Response:
    """The campaigns (newest first) with their totals and the create form."""
    return projects_page(request, state, admin)


# One campaign ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DealControl:
    bandit_id: int
    name: str
    active: bool


@dataclass(frozen=True, slots=True)
class ProjectView:
    """What the project page shows besides the figures."""

    project_id: int
    name: str
    description: str
    status: str
    policy: str
    slots: int
    created: str
    ended: str
    winner_bandit_id: int | None
    winner_name: str | None
    deals: list[DealControl]


def load_project(state: AppState, project_id: int) -> tuple[ProjectView, analytics.ProjectStats]:
    with state.sessions() as session:
        project = projects.get_project(session, project_id)
        stats = analytics.project_stats(
            session, project_id, draws=state.settings.hotdeals_stats_draws
        )
        names = {b.bandit_id: b.bandit_name for b in project.bandits}
        view = ProjectView(
            project_id=project.project_id,
            name=project.project_name,
            description=project.project_description or "",
            status=project.status,
            policy=project.policy,
            slots=project.slots,
            created=stamp(project.created_at),
            ended=stamp(project.ended_at),
            winner_bandit_id=project.winner_bandit_id,
            winner_name=names.get(project.winner_bandit_id) if project.winner_bandit_id else None,
            deals=[DealControl(b.bandit_id, b.bandit_name, b.active) for b in project.bandits],
        )
        return view, stats


def project_page(
    request: Request,
    state: AppState,
    admin: Admin,
    project_id: int,
    *,
    errors: list[str] | None = None,
    form: DealForm | None = None,
    status_code: int = 200,
) -> Response:
    try:
        view, stats = load_project(state, project_id)
    except ProjectNotFound as exc:
        return problem_page("No such campaign", str(exc).capitalize() + ".", 404)
    return render(
        "admin_project.html",
        {
            "admin_csrf": admin.csrf,
            "project": view,
            "rows": arm_table.arm_rows(stats),
            "row_fields": arm_table.ROW_FIELDS,
            "totals": arm_table.totals(stats),
            "winner": arm_table.winner_text(stats),
            "suggested": stats.winner.bandit_id if stats.winner else None,
            "flash": flash(request),
            "errors": errors or [],
            "values": form or DealForm(),
            "plotly_url": PLOTLY_URL,
            "refresh_ms": REFRESH_MS,
            "chart_ids": charts.CHART_IDS,
        },
        status_code=status_code,
    )


@router.get("/projects/{project_id}")
def project_detail(
    request: Request, state: StateDep, admin: PageAdmin, project_id: ProjectId
) -> Response:
    """The arm table, the winner suggestion, the charts and the controls of one campaign."""
    return project_page(request, state, admin, project_id)
