"""Bearer-token auth for the management API (rank and click stay open for the shop's pages).

Wrong or missing tokens are counted per client address
(``HOTDEALS_RATE_LIMIT_ADMIN_FAILURES_PER_IP``):
past the limit they answer 429 with ``Retry-After`` instead of 401. A right token is never
counted nor refused, so an analyst is not locked out by someone else's guessing.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hotdeals.errors import RateLimited
from hotdeals.http.rate_limit import admin_failure
from hotdeals.http.state import AppState

bearer = HTTPBearer(
    auto_error=False,
    description="The HOTDEALS_ADMIN_TOKEN of the server (printed by `hotdeals serve`).",
)


def token_matches(state: AppState, candidate: str) -> bool:
    """Constant-time comparison, so response timing reveals nothing about the token."""
    token = state.admin_token
    return token is not None and secrets.compare_digest(candidate.encode(), token.encode())


async def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """401 unless the bearer token is right; a failure is counted per address first, and past
    the limit refused with 429. Async on purpose: no thread hop for a comparison."""
    state: AppState = request.app.state.hotdeals
    if credentials is None or not token_matches(state, credentials.credentials):
        retry_after = await admin_failure(request)
        if retry_after is not None:
            raise RateLimited(
                f"too many failed admin sign-ins from this address; retry in {retry_after} s",
                retry_after,
            )
        raise HTTPException(
            status_code=401,
            detail="missing or wrong admin token: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


AdminDep = Depends(require_admin)
