"""Campaigns and their deals (management API)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hotdeals.api.deal_schemas import BanditOut, DealPatch, ProjectDetail
from hotdeals.api.params import BanditId, NoQuery, ProjectId, ProjectsQuery
from hotdeals.api.responses import errors
from hotdeals.api.schemas import (
    DealIn,
    PageOut,
    ProjectIn,
    ProjectOut,
    ProjectPatch,
    project_view,
)
from hotdeals.http.auth import AdminDep
from hotdeals.http.deps import StateDep
from hotdeals.services import projects
from hotdeals.services.specs import DealSpec, ProjectSpec

router = APIRouter(prefix="/api", tags=["projects"], dependencies=[AdminDep])


@router.post(
    "/projects",
    status_code=201,
    response_model=ProjectDetail,
    summary="Create a campaign with its deals",
    responses=errors(400, 401, 409, 413),
    dependencies=[NoQuery],
)
def create_project(body: ProjectIn, state: StateDep) -> ProjectDetail:
    """The campaign starts running; every deal starts at the prior (alpha0, beta0)."""
    spec = ProjectSpec.model_validate(body.model_dump())
    with state.sessions.begin() as session:
        project = projects.create_project(session, spec)
        return project_view(ProjectDetail, project, state.clock())


@router.get(
    "/projects",
    response_model=PageOut[ProjectOut],
    summary="Campaigns, newest first",
    responses=errors(401),
)
def list_projects(state: StateDep, query: Annotated[ProjectsQuery, Query()]) -> PageOut[ProjectOut]:
    status, limit, offset = query.status, query.limit, query.offset
    now = state.clock()
    with state.sessions() as session:
        page = projects.list_projects(session, limit=limit, offset=offset, status=status)
        return PageOut[ProjectOut](
            items=[project_view(ProjectOut, p, now) for p in page.items],
            total=page.total,
            limit=limit,
            offset=offset,
        )


@router.get(
    "/projects/{project_id}",
    response_model=ProjectDetail,
    summary="One campaign with its deals",
    responses=errors(401, 404),
    dependencies=[NoQuery],
)
def get_project(project_id: ProjectId, state: StateDep) -> ProjectDetail:
    with state.sessions() as session:
        return project_view(ProjectDetail, projects.get_project(session, project_id), state.clock())


@router.patch(
    "/projects/{project_id}",
    response_model=ProjectDetail,
    summary="Change, pause, resume or end a campaign",
    responses=errors(400, 401, 404, 409, 413),
    dependencies=[NoQuery],
)
def update_project(project_id: ProjectId, body: ProjectPatch, state: StateDep) -> ProjectDetail:
    """`status`: running <-> paused, and either to `ended` (final). A winner is named with
    `{"status": "ended", "winner_bandit_id": ...}`."""
    with state.sessions.begin() as session:
        project = projects.update_project(session, project_id, body.changes(), state.clock())
        return project_view(ProjectDetail, project, state.clock())


@router.post(
    "/projects/{project_id}/bandits",
    status_code=201,
    response_model=BanditOut,
    summary="Add a deal to a campaign",
    responses=errors(400, 401, 404, 409, 413),
    dependencies=[NoQuery],
)
def add_deal(project_id: ProjectId, body: DealIn, state: StateDep) -> BanditOut:
    """Allowed while the campaign runs: the new deal starts at the prior and gets explored."""
    with state.sessions.begin() as session:
        return BanditOut.model_validate(
            projects.add_bandit(session, project_id, DealSpec.model_validate(body.model_dump()))
        )


@router.get(
    "/projects/{project_id}/bandits",
    response_model=list[BanditOut],
    summary="A campaign's deals with their posteriors and counters",
    responses=errors(401, 404),
    dependencies=[NoQuery],
)
def list_deals(project_id: ProjectId, state: StateDep) -> list[BanditOut]:
    with state.sessions() as session:
        return [BanditOut.model_validate(b) for b in projects.list_bandits(session, project_id)]


@router.patch(
    "/bandits/{bandit_id}",
    response_model=BanditOut,
    summary="Rename, redescribe, reschedule or deactivate a deal",
    responses=errors(400, 401, 404, 409, 413),
    dependencies=[NoQuery],
)
def update_deal(bandit_id: BanditId, body: DealPatch, state: StateDep) -> BanditOut:
    """A deactivated deal is never ranked again and keeps its history."""
    with state.sessions.begin() as session:
        return BanditOut.model_validate(projects.update_bandit(session, bandit_id, body.changes()))
