"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import anyio
import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from hotdeals.db.engine import check_connection
from hotdeals.db.migrate import require_schema_at_head
from hotdeals.errors import DatabaseUnavailable, SchemaMissing
from hotdeals.http.state import AppState

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up", response_model=dict[str, str])
async def healthz() -> dict[str, str]:
    """Answers without touching the database, so a slow database never restarts healthy workers."""
    return {"status": "ok"}


def _check_database(engine: Engine) -> None:
    check_connection(engine)
    require_schema_at_head(engine)


@router.get(
    "/readyz",
    summary="The database answers and is migrated; the writer runs and keeps up",
    response_model=dict[str, str],
    responses={
        503: {
            "description": "The database cannot be reached in time or lacks the schema, or this"
            " worker's writer has stopped or is stalled (`detail` says which)"
        }
    },
)
async def readyz(request: Request) -> JSONResponse:
    """503 with ``detail`` naming the reason, so a load balancer sends traffic elsewhere, while:

    * the database does not answer within ``HOTDEALS_CONNECT_TIMEOUT_S`` (it is unreachable, or
      no pooled connection frees up);
    * its schema is not at this version's head (``detail`` names the missing migration);
    * this worker's group-commit writer was started and its thread is not running;
    * the writer is stalled: its oldest queued write, its running batch or its run of failing
      batches is older than the request deadline (the database answers ``SELECT 1`` while the
      hot rows are locked, say).

    Nothing is cached: each probe asks the database (one query of its version table).
    """
    state: AppState = request.app.state.hotdeals
    settings = state.settings
    budget = settings.hotdeals_connect_timeout_s
    try:
        with anyio.fail_after(budget):
            # Abandoned at the budget: the thread ends on its own within the database timeouts.
            await anyio.to_thread.run_sync(_check_database, state.engine, abandon_on_cancel=True)
    except (DatabaseUnavailable, SchemaMissing) as exc:
        return _unavailable(str(exc))
    except TimeoutError:
        return _unavailable(f"the database did not answer within {budget} s")
    writer = state.learning.writer
    if writer.started and not writer.alive:
        return _unavailable("the group-commit writer has stopped (the next write restarts it)")
    deadline = settings.hotdeals_request_deadline_ms / 1000
    stalled = writer.stalled_for(recent=deadline)
    if stalled > deadline:
        return _unavailable(
            f"the group-commit writer is stalled: no progress for {stalled:.1f} s"
            f" (request deadline {deadline:g} s; {writer.queued} writes queued)"
        )
    return JSONResponse({"status": "ready"})


def _unavailable(detail: str) -> JSONResponse:
    return JSONResponse({"status": "unavailable", "detail": detail}, status_code=503)
