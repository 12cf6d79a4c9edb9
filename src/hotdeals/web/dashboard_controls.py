"""The dashboard's forms that change campaigns: create one, change its objective and learning
settings, add a deal, pause, resume or end one, switch a deal off or on, and set a deal's window.

Each calls :mod:`hotdeals.services.projects` exactly as the management API does; a refusal
(:class:`~hotdeals.errors.HotDealsError`) is shown on the page the form came from, with the
form's values and the API's status code. Only a signed-in analyst's own forms get this far
(:data:`~hotdeals.web.dashboard_auth.FormAdmin`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from hotdeals.errors import BanditNotFound, HotDealsError, ProjectNotFound
from hotdeals.http.deps import StateDep
from hotdeals.services import projects
from hotdeals.vocabulary import ProjectStatus
from hotdeals.web.campaign_settings import SettingsForm, settings_changes
from hotdeals.web.dashboard import BanditId, ProjectId, not_found, project_page, projects_page
from hotdeals.web.dashboard_auth import FormAdmin, form_admin, problem_page
from hotdeals.web.dashboard_end import end_campaign
from hotdeals.web.forms import (
    ActiveForm,
    DealForm,
    FormError,
    ProjectForm,
    StatusForm,
    WindowForm,
    deal_spec,
    project_spec,
    window_changes,
)
from hotdeals.web.rendering import redirect

router = APIRouter(prefix="/admin", include_in_schema=False)

STATUS_DONE = {"paused": "paused", "running": "resumed"}


@router.post("/projects")
def create_project(
    request: Request,
    state: StateDep,
    admin: FormAdmin,
    form: Annotated[ProjectForm, Form()],
) -> Response:
    """A new running campaign with the deals of the form's lines."""
    try:
        spec = project_spec(form)
        with state.sessions.begin() as session:
            project_id = projects.create_project(session, spec).project_id
    except FormError as exc:
        return projects_page(request, state, admin, errors=exc.messages, form=form, status_code=400)
    except HotDealsError as exc:
        return projects_page(
            request, state, admin, errors=[str(exc)], form=form, status_code=exc.status_code
        )
    return redirect(f"/admin/projects/{project_id}?done=created")


@router.post("/projects/{project_id}/settings")
def change_settings(
    request: Request,
    state: StateDep,
    admin: FormAdmin,
    project_id: ProjectId,
    form: Annotated[SettingsForm, Form()],
) -> Response:
    """The campaign's objective, position correction, half-life (empty: forgetting off) and
    new-deal prior, as ``PATCH /api/projects/{id}`` changes them: a combination it refuses is
    shown with its words, nothing changed; a new half-life rebuilds the recent figures."""
    try:
        changes = settings_changes(form)
        with state.sessions.begin() as session:
            projects.update_project(session, project_id, changes, state.clock())
    except FormError as exc:
        return project_page(
            request, state, admin, project_id, errors=exc.messages, settings=form, status_code=400
        )
    except ProjectNotFound:
        return not_found("campaign")
    except HotDealsError as exc:
        return project_page(
            request,
            state,
            admin,
            project_id,
            errors=[str(exc)],
            settings=form,
            status_code=exc.status_code,
        )
    return redirect(f"/admin/projects/{project_id}?done=settings#settings")


@router.post("/projects/{project_id}/deals")
def add_deal(
    request: Request,
    state: StateDep,
    admin: FormAdmin,
    project_id: ProjectId,
    form: Annotated[DealForm, Form()],
) -> Response:
    """One more deal; it starts at the prior, so the policy explores it at once."""
    try:
        deal = deal_spec(form)
        with state.sessions.begin() as session:
            projects.add_bandit(session, project_id, deal)
    except FormError as exc:
        return project_page(
            request, state, admin, project_id, errors=exc.messages, form=form, status_code=400
        )
    except HotDealsError as exc:
        return project_page(
            request,
            state,
            admin,
            project_id,
            errors=[str(exc)],
            form=form,
            status_code=exc.status_code,
        )
    return redirect(f"/admin/projects/{project_id}?done=deal-added#deals")


@router.post("/projects/{project_id}/status")
def change_status(
    request: Request,
    state: StateDep,
    admin: FormAdmin,
    project_id: ProjectId,
    form: Annotated[StatusForm, Form()],
) -> Response:
    """Pause, resume, or end (optionally naming the winner, and only once confirmed:
    :mod:`.dashboard_end`); the life cycle is the service's."""
    if form.status not in list(ProjectStatus):
        return project_page(
            request,
            state,
            admin,
            project_id,
            errors=["Choose pause, resume or end."],
            status_code=400,
        )
    if form.status == ProjectStatus.ENDED:
        return end_campaign(request, state, admin, project_id, form)
    try:
        with state.sessions.begin() as session:
            projects.update_project(session, project_id, {"status": form.status})
    except ProjectNotFound:
        return not_found("campaign")
    except HotDealsError as exc:
        return project_page(
            request, state, admin, project_id, errors=[str(exc)], status_code=exc.status_code
        )
    return redirect(f"/admin/projects/{project_id}?done={STATUS_DONE[form.status]}")


@router.post("/deals/{bandit_id}/active", dependencies=[Depends(form_admin)])
def set_active(
    state: StateDep, bandit_id: BanditId, form: Annotated[ActiveForm, Form()]
) -> Response:
    """Deactivate (never shown again, history kept) or reactivate a deal."""
    if form.active not in ("true", "false"):
        return problem_page("Choose deactivate or reactivate", "The form was incomplete.", 400)
    active = form.active == "true"
    try:
        with state.sessions.begin() as session:
            project_id = projects.update_bandit(session, bandit_id, {"active": active}).project_id
    except BanditNotFound:
        return not_found("deal")
    except HotDealsError as exc:
        return problem_page("That did not work", str(exc), exc.status_code)
    done = "deal-on" if active else "deal-off"
    return redirect(f"/admin/projects/{project_id}?done={done}#deals")


@router.post("/deals/{bandit_id}/window")
def set_window(
    request: Request,
    state: StateDep,
    admin: FormAdmin,
    bandit_id: BanditId,
    form: Annotated[WindowForm, Form()],
) -> Response:
    """A deal's new window (UTC; a blank end opens that side); a refusal is shown on its
    campaign's page, and changes nothing."""
    try:
        with state.sessions() as session:
            project_id = projects.get_bandit(session, bandit_id).project_id
    except BanditNotFound:
        return not_found("deal")
    try:
        changes = window_changes(form)
        with state.sessions.begin() as session:
            projects.update_bandit(session, bandit_id, changes)
    except FormError as exc:
        return project_page(request, state, admin, project_id, errors=exc.messages, status_code=400)
    except HotDealsError as exc:
        return project_page(
            request, state, admin, project_id, errors=[str(exc)], status_code=exc.status_code
        )
    return redirect(f"/admin/projects/{project_id}?done=deal-window#deals")
