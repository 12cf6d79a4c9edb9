"""The project page's live feed (``data.json``): its figures, decision panel, table cells and
charts as JSON.

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
from hotdeals.services import projects
from hotdeals.services.series import Bucket, hours_with_traffic, time_series
from hotdeals.web import charts
from hotdeals.web.busiest import MAX_CHARTED, busiest
from hotdeals.web.dashboard import figures_context, load_project, panel_payload
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


def payload(state: AppState, project_id: int, bucket: str, every: bool = False) -> dict[str, Any]:
    """Everything the project page refreshes: formatted cells, the decision panel, raw figures
    (in the API's JSON shapes) and the charts; the cells and raw figures of the deals the page
    lists (all with ``every``: :func:`.busiest.listed`)."""
    view, stats = load_project(state, project_id)
    drawn = busiest(stats, MAX_CHARTED)
    ids = [deal.bandit_id for deal in drawn.bandits]
    with state.sessions() as session:
        bandits = projects.list_bandits(session, project_id, ids)
        chosen: Bucket = "day" if bucket == "day" else "hour"
        if bucket not in ("hour", "day"):
            hours = hours_with_traffic(session, project_id, ids)
            chosen = "day" if hours > charts.MAX_HOURLY_BUCKETS else "hour"
        points = time_series(session, project_id, chosen, bandit_ids=ids)
    series = charts.align(points, ids, chosen)
    context = figures_context(view, stats, every)
    figures = charts.figures(drawn, bandits, series, context["revenue_in"])
    return {
        "project": {
            "project_id": project_id,
            "project_name": view.name,
            "status": view.status,
            "effective_status": view.effective_status,
        },
        "totals": asdict(context["totals"]),
        "rows": [{"bandit_id": r.bandit_id, "cells": r.cells} for r in context["rows"]],
        "winner": context["winner"],
        "decision": panel_payload(context["panel"]),
        # As the API sends them (``GET /api/projects/{id}/stats``, the listed deals'):
        # pydantic's serialiser (:func:`.rendering.json_response`), a NaN as null.
        "stats": context["listed"],
        "listed": {"deals": len(context["rows"]), "of": len(stats.bandits)},
        "series": {
            "bucket": series.bucket,
            "buckets": series.buckets,
            "impressions": {str(k): v for k, v in series.impressions.items()},
            "clicks": {str(k): v for k, v in series.clicks.items()},
            "share": {str(k): v for k, v in series.share.items()},
            "purchases": {str(k): v for k, v in series.purchases.items()},
            # Exact amounts as the API sends them: decimal strings, in the campaign's currency.
            "purchase_value": {str(k): [str(a) for a in v] for k, v in series.revenue.items()},
        },
        "charts": figures,
        "charted": {"deals": len(ids), "of": len(stats.bandits)},
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


# The admin first: a stranger learns nothing about ids (dependencies are solved in order).
@router.get("/projects/{project_id}/data.json", dependencies=[Depends(feed_admin)])
def project_data(
    state: StateDep,
    project_id: Annotated[int, Depends(feed_project_id)],
    bucket: str = "auto",
    deals: str = "busiest",
) -> Response:
    """The figures of one campaign; ``bucket`` is ``hour``, ``day`` or ``auto`` (days once
    hours would be too many to chart), ``deals`` ``all`` to list every deal's row."""
    try:
        return json_response(payload(state, project_id, bucket, every=deals == "all"))
    except ProjectNotFound as exc:
        return json_response({"detail": str(exc)}, 404)
