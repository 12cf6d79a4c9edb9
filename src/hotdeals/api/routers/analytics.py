"""Figures for the analyst (management API)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from hotdeals.api.analytics_schemas import SeriesPointOut, StatsOut, TimeSeriesOut
from hotdeals.api.params import NoQuery, ProjectId, SeriesQuery
from hotdeals.api.responses import errors
from hotdeals.http.auth import AdminDep
from hotdeals.http.deps import StateDep
from hotdeals.services import analytics, export, projects, series

router = APIRouter(prefix="/api/projects", tags=["analytics"], dependencies=[AdminDep])


@router.get(
    "/{project_id}/stats",
    response_model=StatsOut,
    summary="Per-deal CTR, credible intervals, P(best), expected loss and the winner",
    responses=errors(401, 404),
    dependencies=[NoQuery],
)
def get_stats(project_id: ProjectId, state: StateDep) -> StatsOut:
    """`winner` is the deal the analyst named on ending the campaign (`chosen: true`); else the
    deal the winner rule names (`chosen: false`): the leader by P(best), once it has
    `min_impressions` of its own, the campaign has run `min_duration_days`, and either its
    P(best) >= `min_prob_best` or its expected loss < `max_relative_loss` x its posterior CTR;
    else null. `decision` says which condition is missing, forecasts the impressions and days
    to a decision, and gives the clicks gained over an even split: docs/api.md."""
    with state.sessions() as session:
        result = analytics.project_stats(
            session,
            project_id,
            draws=state.settings.hotdeals_stats_draws,
            now=state.clock(),
            caches=state.stats_caches,
        )
    return StatsOut.model_validate(result, from_attributes=True)


@router.get(
    "/{project_id}/timeseries",
    response_model=TimeSeriesOut,
    summary="Impressions, clicks, purchases and revenue per deal per hour or day (UTC)",
    responses=errors(401, 404),
)
def get_timeseries(
    project_id: ProjectId, state: StateDep, query: Annotated[SeriesQuery, Query()]
) -> TimeSeriesOut:
    """Every figure of a point belongs to the bucket of its impressions: a click or a purchase
    reported hours later counts in the hour the deal was shown, so `purchase_value` (a decimal
    string, in the campaign's currency) is the revenue the traffic of that bucket earned."""
    bucket = query.bucket
    with state.sessions() as session:
        points = series.time_series(session, project_id, bucket, bandit_ids=query.bandit_id)
    return TimeSeriesOut(
        project_id=project_id,
        bucket=bucket,
        points=[SeriesPointOut.model_validate(p, from_attributes=True) for p in points],
    )


@router.get(
    "/{project_id}/transactions.csv",
    summary="The campaign's impression log as CSV, streamed",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {}}, "description": "One row per impression"},
        **errors(401, 404),
    },
    dependencies=[NoQuery],
)
def export_transactions_csv(project_id: ProjectId, state: StateDep) -> StreamingResponse:
    """Rows in `transaction_id` order; timestamps in ISO 8601 UTC. Memory stays constant
    whatever the size of the log."""
    with state.sessions() as session:  # a 404 before the stream starts, not in its middle
        projects.require_project(session, project_id)
    return StreamingResponse(
        export.csv_stream(state.engine, project_id),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="project-{project_id}.csv"'},
    )
