"""The FastAPI application factory: builds the app and mounts the routers, nothing more."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hotdeals import __version__
from hotdeals.api import health
from hotdeals.api.state import AppState
from hotdeals.config import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """An app bound to ``settings`` (the environment's by default); one engine per app."""
    settings = settings or get_settings()
    state = AppState.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        state.engine.dispose()

    app = FastAPI(
        title="Supermarket Hot Deals",
        version=__version__,
        description="Ranks a shop's deals with multi-armed bandits and learns from every click.",
        lifespan=lifespan,
    )
    app.state.hotdeals = state
    app.include_router(health.router)
    return app
