"""Ending a campaign, in two steps: a page that says what will happen to the strip, then the end.

Ending is final, so the project page's end form only asks (``GET .../end``); the confirmation
page names the winner, says whether the strip will roll it out or show nothing, and posts the
end with ``confirm = "end"``. The server checks that field, not the browser: an end posted
without it changes nothing and shows the confirmation page again (400).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from starlette.responses import Response

from hotdeals.errors import HotDealsError, ProjectNotFound
from hotdeals.http.deps import StateDep
from hotdeals.http.state import AppState
from hotdeals.services import projects
from hotdeals.vocabulary import ProjectStatus
from hotdeals.web.cookies import Admin
from hotdeals.web.dashboard import ProjectId, load_project, not_found, project_page
from hotdeals.web.dashboard_auth import PageAdmin
from hotdeals.web.decision_panel import panel
from hotdeals.web.forms import StatusForm, parse_id
from hotdeals.web.rendering import redirect, render

router = APIRouter(prefix="/admin", include_in_schema=False)

CONFIRMED = "end"
CHOOSE_WINNER = "Choose the winner from the list."
UNCONFIRMED = "Not ended yet: confirm below to end the campaign."


@dataclass(frozen=True, slots=True)
class Consequence:
    """What ending does to the strip, in the confirmation page's words."""

    title: str
    strip: str
    button: str


def consequence(winner_name: str | None) -> Consequence:
    """Rollout of the named winner, or nothing shown at all."""
    if winner_name is not None:
        return Consequence(
            f"End the campaign with {winner_name!r} as the winner?",
            f"The strip will roll out {winner_name!r}: it shows {winner_name!r} in slot 1, then "
            "the other deals by posterior mean, with no exploration. Impressions are still "
            "logged, so this page keeps measuring the rollout.",
            f"End and roll out {winner_name}",
        )
    return Consequence(
        "End the campaign without a winner?",
        "The strip will show nothing: the shop's rank calls are refused and the storefront "
        "says the campaign has ended.",
        "End without a winner",
    )


def confirm_page(
    request: Request,
    state: AppState,
    admin: Admin,
    project_id: int,
    winner_text: str,
    *,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    """The confirmation page, or the project page with the reason it cannot be shown."""
    try:
        view, stats = load_project(state, project_id)
    except ProjectNotFound:
        return not_found("campaign")
    if view.status == ProjectStatus.ENDED:
        return project_page(
            request,
            state,
            admin,
            project_id,
            errors=["This campaign has already ended."],
            status_code=409,
        )
    winner = parse_id(winner_text) if winner_text else None
    names = {d.bandit_id: d.name for d in view.deals}
    if winner_text and winner not in names:
        return project_page(
            request, state, admin, project_id, errors=[CHOOSE_WINNER], status_code=400
        )
    name = names[winner] if winner is not None else None
    suggested = stats.winner.bandit_name if stats.winner and winner is None else None
    shown = panel(stats)
    return render(
        "admin_end.html",
        {
            "admin_csrf": admin.csrf,
            "project": view,
            "winner_id": winner or "",
            "consequence": consequence(name),
            "suggested": suggested,
            "summary": shown.summary if shown else None,
            "confirm_value": CONFIRMED,
            "errors": errors or [],
        },
        status_code=status_code,
    )


@router.get("/projects/{project_id}/end")
def confirm_end(
    request: Request,
    state: StateDep,
    admin: PageAdmin,
    project_id: ProjectId,
    winner_bandit_id: str = "",
) -> Response:
    """The second step of ending: what will happen, and the button that does it."""
    return confirm_page(request, state, admin, project_id, winner_bandit_id)


def end_campaign(
    request: Request, state: AppState, admin: Admin, project_id: int, form: StatusForm
) -> Response:
    """End the campaign if the form confirms it, else show the confirmation page again."""
    if form.confirm != CONFIRMED:
        return confirm_page(
            request,
            state,
            admin,
            project_id,
            form.winner_bandit_id,
            errors=[UNCONFIRMED],
            status_code=400,
        )
    changes: dict[str, object] = {"status": ProjectStatus.ENDED}
    if form.winner_bandit_id:
        winner = parse_id(form.winner_bandit_id)
        if winner is None:
            return project_page(
                request, state, admin, project_id, errors=[CHOOSE_WINNER], status_code=400
            )
        changes["winner_bandit_id"] = winner
    try:
        with state.sessions.begin() as session:
            projects.update_project(session, project_id, changes, state.clock())
    except ProjectNotFound:
        return not_found("campaign")
    except HotDealsError as exc:
        return project_page(
            request, state, admin, project_id, errors=[str(exc)], status_code=exc.status_code
        )
    done = "ended-rollout" if "winner_bandit_id" in changes else "ended"
    return redirect(f"/admin/projects/{project_id}?done={done}")
