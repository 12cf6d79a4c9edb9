"""The app factory: one FastAPI app that mounts the JSON API and the pages, nothing more.

It sits above ``hotdeals.api`` and ``hotdeals.web``, which never import each other; what both
need (state, auth, error mapping, the body limit) is ``hotdeals.http``, one floor below them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from hotdeals import __version__
from hotdeals.api import metrics as api_metrics
from hotdeals.api import routes as api_routes
from hotdeals.api.params import document_bodies
from hotdeals.config import Settings, get_settings
from hotdeals.db.types import utcnow
from hotdeals.http import metrics
from hotdeals.http.body_limit import BodySizeLimit
from hotdeals.http.door import BodyTimeout
from hotdeals.http.errors import install_error_handlers
from hotdeals.http.request_log import ObserveRequests
from hotdeals.http.state import AppState
from hotdeals.http.upkeep import Upkeep
from hotdeals.web import errors as web_errors
from hotdeals.web import routes as web_routes

DESCRIPTION = """
Ranks a shop's deals with multi-armed bandits and learns from every click.

* **Learning loop** (open, no personal data): `POST /api/projects/{id}/rank` returns the deals to
  show, each with a `transaction_id`; `POST /api/transactions/{id}/click` reports a click.
* **Management** (everything else under `/api`): send
  `Authorization: Bearer <HOTDEALS_ADMIN_TOKEN>`.

Every error is JSON `{"detail": ...}`: 400, 401, 404, 409, 413 or 422 for a request to correct,
429 when a client exceeds its rate limit and 503 when we cannot answer in time or the database
is unavailable (both with `Retry-After`), 500 for a fault of ours (logged, no trace).
"""


def create_app(
    settings: Settings | None = None, *, clock: Callable[[], datetime] = utcnow
) -> FastAPI:
    """An app bound to ``settings`` (the environment's by default); one engine per app.
    ``clock`` is the wall clock of schedules and durations (tests inject their own)."""
    settings = settings or get_settings()
    state = AppState.from_settings(settings, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upkeep = Upkeep(state)
        upkeep.start()
        yield
        await upkeep.stop()
        await state.learning.close()
        limiter = getattr(app.state, "rate_limits", None)  # created on first use
        if limiter is not None:
            await limiter.close()
        state.engine.dispose()

    app = FastAPI(
        title="Supermarket Hot Deals",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by hotdeals.api.docs from a package, not from a CDN
        redoc_url=None,
        # operationId = the endpoint function's name (rank, click, create_project, ...), unique
        # across the API, so that generated clients get short, stable method names.
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.hotdeals = state
    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        """FastAPI's document (built once, cached by FastAPI) with the hot routes' bodies."""
        return document_bodies(default_openapi())

    app.openapi = openapi  # type: ignore[method-assign]
    state.learning.writer.on_commit = metrics.observe_commit
    install_error_handlers(app)
    web_errors.install(app)
    app.add_middleware(BodySizeLimit)
    app.add_middleware(BodyTimeout, seconds=settings.hotdeals_body_timeout_s)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        )
    # Outermost of ours: every request, refused or not, gets a request id and is counted.
    app.add_middleware(ObserveRequests)
    app.include_router(api_routes.router)
    app.include_router(api_metrics.make_router(public=settings.hotdeals_metrics_public))
    app.include_router(web_routes.router)
    return app
