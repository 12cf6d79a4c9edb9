"""The project page's live feed (``data.json``): its figures, table cells and charts as JSON.

The open page polls it every few seconds with the same session cookie as the page; every cell
is formatted here exactly as on the page (:mod:`.charts`), so a refresh changes only numbers.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from hotdeals.errors import ProjectNotFound
from hotdeals.http.deps import StateDep
from hotdeals.http.state import AppState
from hotdeals.services import analytics, projects
from hotdeals.web import arm_table, charts
from hotdeals.web.dashboard_auth import feed_admin
from hotdeals.web.errors import ShowPage
from hotdeals.web.forms import parse_id
from hotdeals.web.rendering import json_response

router = APIRouter(prefix="/admin", include_in_schema=False)


async def feed_project_id(project_id: str) -> int:
    """The campaign the feed's path names; an id that cannot exist is a 404 like an unknown one."""
    parsed = parse_id(project_id)
    if parsed is None:
        raise ShowPage(json_response({"detail": f"project {project_id} does not exist"}, 404))
    return parsed


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
        "totals": asdict(arm_table.totals(stats)),
        "rows": [{"bandit_id": r.bandit_id, "cells": r.cells} for r in arm_table.arm_rows(stats)],
        "winner": arm_table.winner_text(stats),
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


# The admin first: a stranger learns nothing about ids (dependencies are solved in order).
@router.get("/projects/{project_id}/data.json", dependencies=[Depends(feed_admin)])
def project_data(
    state: StateDep,
    project_id: Annotated[int, Depends(feed_project_id)],
    bucket: str = "auto",
) -> Response:
    """The figures of one campaign; ``bucket`` is ``hour``, ``day`` or ``auto`` (days once
    hours would be too many to chart)."""
    try:
        return json_response(payload(state, project_id, bucket))
    except ProjectNotFound as exc:
        return json_response({"detail": str(exc)}, 404)
