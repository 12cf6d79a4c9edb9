"""The analyst's dashboard under ``/admin``: campaigns, their figures and their controls.

Sign-in takes the admin token once and gives a signed session cookie (:mod:`.cookies`); every
POST checks that session and the form's CSRF token before anything else. The figures are the
services' own (:mod:`hotdeals.services.analytics`), the controls call
:mod:`hotdeals.services.projects` exactly as the management API does, and our errors
(:class:`~hotdeals.errors.HotDealsError`) are shown on the page with the API's status codes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from hotdeals.api.auth import token_matches
from hotdeals.api.deps import StateDep
from hotdeals.api.errors import status_for
from hotdeals.api.schemas import MAX_SLOTS
from hotdeals.api.state import AppState
from hotdeals.db.models import PROJECT_STATUSES
from hotdeals.errors import BanditNotFound, HotDealsError, ProjectNotFound
from hotdeals.services import analytics, projects
from hotdeals.services.projects import POLICY_NAMES
from hotdeals.web import charts
from hotdeals.web.assets import PLOTLY_URL
from hotdeals.web.cookies import Admin, Visit
from hotdeals.web.forms import DEAL_LINE_HELP, FormError, deal_from_form, parse_id, project_spec
from hotdeals.web.rendering import json_response, redirect, render

router = APIRouter(prefix="/admin", include_in_schema=False)

FormField = Annotated[str, Form()]
PAGE_SIZE = 50
REFRESH_MS = 5000

DONE = {
    "created": "Campaign created and running: the storefront can show it now.",
    "paused": "Campaign paused: the storefront shows a “come back soon” message.",
    "resumed": "Campaign resumed: the storefront ranks its deals again.",
    "ended": "Campaign ended. This is final; its figures stay here.",
    "deal-added": "Deal added: it starts at the prior, so the policy explores it at once.",
    "deal-off": "Deal deactivated: it is no longer shown; its history is kept.",
    "deal-on": "Deal reactivated: it is ranked again.",
    "signed-out": "You are signed out.",
}
STATUS_DONE = {"paused": "paused", "running": "resumed", "ended": "ended"}


def stamp(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else ""


# Refusals --------------------------------------------------------------------------------


def problem(title: str, text: str, status_code: int, admin: Admin | None = None) -> Response:
    return render(
        "problem.html",
        {
            "title": title,
            "text": text,
            "back_url": "/admin",
            "back_label": "Back to the dashboard",
            "admin_csrf": admin.csrf if admin else "",
        },
        status_code=status_code,
    )


def refused(admin: Admin, csrf: str) -> Response | None:
    """Why this POST may not go on (signed out: 401, forged or stale form: 403), or None."""
    if not admin.signed_in:
        return problem(
            "Please sign in again",
            "Your dashboard session has expired or you are not signed in.",
            401,
        )
    if not admin.form_ok(csrf):
        return problem(
            "This form has expired",
            "The dashboard only accepts forms from its own pages. Reload the page and try again.",
            403,
            admin,
        )
    return None


# Sign-in ---------------------------------------------------------------------------------


def login_page(
    request: Request, state: AppState, *, error: str | None = None, status_code: int = 200
) -> Response:
    visit = Visit(request, state)
    response = render(
        "admin_login.html",
        {
            "csrf": visit.csrf,
            "error": error,
            "enabled": state.admin_token is not None,
            "flash": DONE.get(request.query_params.get("done", "")),
            "admin_csrf": "",
        },
        status_code=status_code,
    )
    return visit.finish(response, signed_in=visit.customer_id is not None)


@router.post("/login")
def login(
    request: Request, state: StateDep, csrf: FormField = "", token: FormField = ""
) -> Response:
    """Trade the admin token for a session cookie; a wrong token is refused with a message."""
    visit = Visit(request, state)
    if not visit.form_ok(csrf):
        return problem(
            "This form has expired",
            "Reload the sign-in page and try again.",
            403,
        )
    if not token_matches(state, token.strip()):
        return login_page(
            request,
            state,
            error="That admin token is not right. Please try again.",
            status_code=401,
        )
    return Admin(request, state).start(redirect("/admin"))


@router.get("/login")
def login_form() -> Response:
    return redirect("/admin")


@router.post("/logout")
def logout(request: Request, state: StateDep, csrf: FormField = "") -> Response:
    """End the session; the form needs its token, so no other site can sign the analyst out."""
    admin = Admin(request, state)
    if admin.signed_in and (refusal := refused(admin, csrf)) is not None:
        return refusal
    return Admin.end(redirect("/admin?done=signed-out"))


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
    values: dict[str, str] | None = None,
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
            "flash": DONE.get(request.query_params.get("done", "")),
            "errors": errors or [],
            "values": values
            or {"name": "", "description": "", "policy": "thompson", "slots": "3", "deals": ""},
            "policies": POLICY_NAMES,
            "max_slots": MAX_SLOTS,
            "deal_help": DEAL_LINE_HELP,
        },
        status_code=status_code,
    )


@router.get("")
def dashboard(request: Request, state: StateDep) -> Response:
    """Sign-in form, or the campaigns (newest first) with their totals and the create form."""
    admin = Admin(request, state)
    if not admin.signed_in:
        return login_page(request, state)
    return projects_page(request, state, admin)


@router.post("/projects")
def create_project(
    request: Request,
    state: StateDep,
    csrf: FormField = "",
    project_name: FormField = "",
    project_description: FormField = "",
    policy: FormField = "thompson",
    slots: FormField = "3",
    deals: FormField = "",
) -> Response:
    admin = Admin(request, state)
    if (refusal := refused(admin, csrf)) is not None:
        return refusal
    values = {
        "name": project_name,
        "description": project_description,
        "policy": policy,
        "slots": slots,
        "deals": deals,
    }
    try:
        spec = project_spec(
            name=project_name,
            description=project_description,
            policy=policy,
            slots=slots,
            deals=deals,
        )
        with state.sessions.begin() as session:
            project_id = projects.create_project(session, spec).project_id
    except FormError as exc:
        return projects_page(
            request, state, admin, errors=exc.messages, values=values, status_code=400
        )
    except HotDealsError as exc:
        return projects_page(
            request, state, admin, errors=[str(exc)], values=values, status_code=status_for(exc)
        )
    return redirect(f"/admin/projects/{project_id}?done=created")


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
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    try:
        view, stats = load_project(state, project_id)
    except ProjectNotFound as exc:
        return problem("No such campaign", str(exc).capitalize() + ".", 404, admin)
    return render(
        "admin_project.html",
        {
            "admin_csrf": admin.csrf,
            "project": view,
            "rows": charts.arm_rows(stats),
            "row_fields": charts.ROW_FIELDS,
            "totals": charts.totals(stats),
            "winner": charts.winner_text(stats),
            "suggested": stats.winner.bandit_id if stats.winner else None,
            "flash": DONE.get(request.query_params.get("done", "")),
            "errors": errors or [],
            "values": values
            or {"name": "", "price": "", "emoji": "", "description": "", "image_url": ""},
            "plotly_url": PLOTLY_URL,
            "refresh_ms": REFRESH_MS,
            "chart_ids": charts.CHART_IDS,
        },
        status_code=status_code,
    )


def not_found(admin: Admin, what: str = "campaign") -> Response:
    return problem(f"No such {what}", f"That {what} does not exist.", 404, admin)


@router.get("/projects/{project_id}")
def project_detail(request: Request, state: StateDep, project_id: str) -> Response:
    """The arm table, the winner suggestion, the charts and the controls of one campaign."""
    admin = Admin(request, state)
    if not admin.signed_in:
        return login_page(request, state)
    pid = parse_id(project_id)
    if pid is None:
        return not_found(admin)
    return project_page(request, state, admin, pid)


def payload(state: AppState, project_id: int, bucket: str) -> dict[str, Any]:
    """Everything the project page refreshes: formatted cells, raw figures and the charts."""
    with state.sessions() as session:
        project = projects.get_project(session, project_id)
        stats = analytics.project_stats(
            session, project_id, draws=state.settings.hotdeals_stats_draws
        )
        chosen = bucket if bucket in ("hour", "day") else "hour"
        points = analytics.time_series(session, project_id, "day" if chosen == "day" else "hour")
        if bucket not in ("hour", "day") and charts.hourly_is_too_fine(points):
            chosen, points = "day", analytics.time_series(session, project_id, "day")
        series = charts.align(points, [b.bandit_id for b in project.bandits], chosen)
        figures = charts.figures(stats, project.bandits, series)
        status = project.status
        name = project.project_name
    return {
        "project": {"project_id": project_id, "project_name": name, "status": status},
        "totals": asdict(charts.totals(stats)),
        "rows": [{"bandit_id": r.bandit_id, "cells": r.cells} for r in charts.arm_rows(stats)],
        "winner": charts.winner_text(stats),
        "stats": {
            "bandits": [asdict(d) for d in stats.bandits],
            "winner": asdict(stats.winner) if stats.winner else None,
        },
        "series": {
            "bucket": series.bucket,
            "buckets": series.buckets,
            "impressions": {str(k): v for k, v in series.impressions.items()},
            "clicks": {str(k): v for k, v in series.clicks.items()},
            "share": {str(k): v for k, v in series.share.items()},
        },
        "charts": figures,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


@router.get("/projects/{project_id}/data.json")
def project_data(
    request: Request, state: StateDep, project_id: str, bucket: str = "auto"
) -> Response:
    """What the open project page polls every few seconds (same session cookie as the page)."""
    admin = Admin(request, state)
    if not admin.signed_in:
        return json_response({"detail": "sign in to the dashboard again"}, 401)
    pid = parse_id(project_id)
    if pid is None:
        return json_response({"detail": f"project {project_id} does not exist"}, 404)
    try:
        return json_response(payload(state, pid, bucket))
    except ProjectNotFound as exc:
        return json_response({"detail": str(exc)}, 404)


@router.post("/projects/{project_id}/deals")
def add_deal(
    request: Request,
    state: StateDep,
    project_id: str,
    csrf: FormField = "",
    bandit_name: FormField = "",
    price: FormField = "",
    emoji: FormField = "",
    description: FormField = "",
    image_url: FormField = "",
) -> Response:
    admin = Admin(request, state)
    if (refusal := refused(admin, csrf)) is not None:
        return refusal
    pid = parse_id(project_id)
    if pid is None:
        return not_found(admin)
    values = {
        "name": bandit_name,
        "price": price,
        "emoji": emoji,
        "description": description,
        "image_url": image_url,
    }
    try:
        deal = deal_from_form(
            name=bandit_name,
            price=price,
            emoji=emoji,
            description=description,
            image_url=image_url,
        )
        with state.sessions.begin() as session:
            projects.add_bandit(session, pid, deal)
    except FormError as exc:
        return project_page(
            request, state, admin, pid, errors=exc.messages, values=values, status_code=400
        )
    except HotDealsError as exc:
        return project_page(
            request,
            state,
            admin,
            pid,
            errors=[str(exc)],
            values=values,
            status_code=status_for(exc),
        )
    return redirect(f"/admin/projects/{pid}?done=deal-added#deals")


@router.post("/projects/{project_id}/status")
def change_status(
    request: Request,
    state: StateDep,
    project_id: str,
    csrf: FormField = "",
    status: FormField = "",
    winner_bandit_id: FormField = "",
) -> Response:
    """Pause, resume, or end (optionally naming the winner): the life cycle is the service's."""
    admin = Admin(request, state)
    if (refusal := refused(admin, csrf)) is not None:
        return refusal
    pid = parse_id(project_id)
    if pid is None:
        return not_found(admin)
    if status not in PROJECT_STATUSES:
        return project_page(
            request, state, admin, pid, errors=["Choose pause, resume or end."], status_code=400
        )
    changes: dict[str, object] = {"status": status}
    if status == "ended" and winner_bandit_id:
        winner = parse_id(winner_bandit_id)
        if winner is None:
            return project_page(
                request,
                state,
                admin,
                pid,
                errors=["Choose the winner from the list."],
                status_code=400,
            )
        changes["winner_bandit_id"] = winner
    try:
        with state.sessions.begin() as session:
            projects.update_project(session, pid, changes)
    except ProjectNotFound:
        return not_found(admin)
    except HotDealsError as exc:
        return project_page(
            request, state, admin, pid, errors=[str(exc)], status_code=status_for(exc)
        )
    return redirect(f"/admin/projects/{pid}?done={STATUS_DONE[status]}")


@router.post("/deals/{bandit_id}/active")
def set_active(
    request: Request,
    state: StateDep,
    bandit_id: str,
    csrf: FormField = "",
    active: FormField = "",
) -> Response:
    """Deactivate (never shown again, history kept) or reactivate a deal."""
    admin = Admin(request, state)
    if (refusal := refused(admin, csrf)) is not None:
        return refusal
    bid = parse_id(bandit_id)
    if bid is None:
        return not_found(admin, "deal")
    if active not in ("true", "false"):
        return problem("Choose deactivate or reactivate", "The form was incomplete.", 400, admin)
    try:
        with state.sessions.begin() as session:
            project_id = projects.update_bandit(
                session, bid, {"active": active == "true"}
            ).project_id
    except BanditNotFound:
        return not_found(admin, "deal")
    except HotDealsError as exc:
        return problem("That did not work", str(exc), status_for(exc), admin)
    done = "deal-on" if active == "true" else "deal-off"
    return redirect(f"/admin/projects/{project_id}?done={done}#deals")
