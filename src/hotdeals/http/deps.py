"""Request dependencies as ``Annotated`` aliases, so every route reads the same way."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hotdeals.http.state import AppState


def app_state(request: Request) -> AppState:
    """The app's state; the hot routes call it directly (a dependency costs a resolution)."""
    state: AppState = request.app.state.hotdeals
    return state


async def get_state(request: Request) -> AppState:
    """Async on purpose: a sync dependency would cost every request a thread-pool hop."""
    return app_state(request)


StateDep = Annotated[AppState, Depends(get_state)]
