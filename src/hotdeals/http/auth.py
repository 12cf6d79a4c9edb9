"""Bearer-token auth for the management API (rank and click stay open for the shop's pages)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hotdeals.http.state import AppState

bearer = HTTPBearer(
    auto_error=False,
    description="The HOTDEALS_ADMIN_TOKEN of the server (printed by `hotdeals serve`).",
)


def token_matches(state: AppState, candidate: str) -> bool:
    """Constant-time comparison, so response timing reveals nothing about the token."""
    token = state.admin_token
    return token is not None and secrets.compare_digest(candidate.encode(), token.encode())


def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    state: AppState = request.app.state.hotdeals
    if credentials is None or not token_matches(state, credentials.credentials):
        raise HTTPException(
            status_code=401,
            detail="missing or wrong admin token: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


AdminDep = Depends(require_admin)
