"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hotdeals.db.engine import check_connection
from hotdeals.db.migrate import require_schema_at_head
from hotdeals.errors import DatabaseUnavailable, SchemaMissing
from hotdeals.http.state import AppState

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up", response_model=dict[str, str])
async def healthz() -> dict[str, str]:
    """Answers without touching the database, so a slow database never restarts healthy workers."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database is reachable and migrated",
    response_model=dict[str, str],
    responses={503: {"description": "The database cannot be reached or lacks the schema"}},
)
async def readyz(request: Request) -> JSONResponse:
    """503 while the database is unreachable or its schema is not at this version's head
    (``detail`` names the missing migration), so a load balancer sends traffic elsewhere.
    Nothing is cached: each probe asks the database (one query of its version table)."""
    state: AppState = request.app.state.hotdeals
    try:
        await run_in_threadpool(check_connection, state.engine)
        await run_in_threadpool(require_schema_at_head, state.engine)
    except (DatabaseUnavailable, SchemaMissing) as exc:
        return JSONResponse({"status": "unavailable", "detail": str(exc)}, status_code=503)
    return JSONResponse({"status": "ready"})
