"""The FastAPI application factory: builds the app and mounts the routers, nothing more."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from hotdeals import __version__
from hotdeals.api import health
from hotdeals.api.errors import install_error_handlers
from hotdeals.api.limits import BodySizeLimit
from hotdeals.api.params import reject_unknown_query
from hotdeals.api.routers import analytics, learning, projects, users
from hotdeals.api.state import AppState
from hotdeals.config import Settings, get_settings
from hotdeals.web import routes as web_routes

DESCRIPTION = """
Ranks a shop's deals with multi-armed bandits and learns from every click.

* **Learning loop** (open, no personal data): `POST /api/projects/{id}/rank` returns the deals to
  show, each with a `transaction_id`; `POST /api/transactions/{id}/click` reports a click.
* **Management** (everything else under `/api`): send
  `Authorization: Bearer <HOTDEALS_ADMIN_TOKEN>`.

Every error is JSON `{"detail": ...}` with status 400, 401, 404, 409, 413 or 422.
"""


def calm_the_garbage_collector() -> None:
    """Fewer, shorter garbage collections in a serving process.

    Everything alive at start-up (modules, the app, the pools) lives as long as the process:
    freezing it keeps full collections from walking it again and again, and a larger first
    threshold makes collections rarer under load. Measured with ``make bench``'s rank at 64
    connections: p99 fell from 160-180 ms to under 100 ms, and throughput rose ~10%.
    """
    gc.freeze()
    gc.set_threshold(50_000, 50, 1_000)


def create_app(settings: Settings | None = None) -> FastAPI:
    """An app bound to ``settings`` (the environment's by default); one engine per app."""
    settings = settings or get_settings()
    state = AppState.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        calm_the_garbage_collector()
        yield
        await state.learning.close()
        state.engine.dispose()

    app = FastAPI(
        title="Supermarket Hot Deals",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.hotdeals = state
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        )
    app.include_router(health.router)
    for router in (learning.router, users.router, projects.router, analytics.router):
        app.include_router(router, dependencies=[Depends(reject_unknown_query)])
    app.include_router(web_routes.router)
    return app
