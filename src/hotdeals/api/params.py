"""Path parameters, bounded to what the columns can hold (INTEGER ids, BIGINT transactions).

An id past the column's range is a 422 that says so, never a driver overflow.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

MAX_ID = 2**31 - 1
MAX_TRANSACTION_ID = 2**63 - 1

ProjectId = Annotated[int, Path(ge=1, le=MAX_ID, description="project_id")]
BanditId = Annotated[int, Path(ge=1, le=MAX_ID, description="bandit_id")]
CustomerId = Annotated[int, Path(ge=1, le=MAX_ID, description="customer_id")]
TransactionId = Annotated[
    int, Path(ge=1, le=MAX_TRANSACTION_ID, description="transaction_id from a rank answer")
]

MAX_PAGE = 500
MAX_OFFSET = 1_000_000_000

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"items per page, 1-{MAX_PAGE}")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="items to skip")]


async def reject_unknown_query(request: Request) -> None:
    """A misspelt query parameter (``?limt=10``) is a 422 naming it, not silently ignored.

    Async so that it runs on the event loop: a sync dependency costs a thread hop per request.
    """
    if not request.scope.get("query_string"):
        return
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    unknown = sorted(set(request.query_params) - _query_names(route.dependant))
    if unknown:
        raise RequestValidationError(
            [
                {"loc": ["query", n], "msg": "unknown query parameter", "type": "extra_forbidden"}
                for n in unknown
            ]
        )


def _query_names(dependant: Dependant) -> set[str]:
    """The query parameters a route declares, its dependencies' included."""
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names
