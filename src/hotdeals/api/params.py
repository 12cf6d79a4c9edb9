"""Path and query parameters of the API, bounded by the vocabulary's limits.

An id past its column's range is a 422 that says so, never a driver overflow. Query strings are
models that forbid unknown fields, so a misspelt parameter (``?limt=10``) is a 422 naming it
instead of being silently ignored; a route without parameters takes :data:`NoQuery`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from hotdeals.vocabulary import MAX_ID, MAX_OFFSET, MAX_PAGE, MAX_TRANSACTION_ID, ProjectStatus

ProjectId = Annotated[int, Path(ge=1, le=MAX_ID, description="project_id")]
BanditId = Annotated[int, Path(ge=1, le=MAX_ID, description="bandit_id")]
CustomerId = Annotated[int, Path(ge=1, le=MAX_ID, description="customer_id")]
TransactionId = Annotated[
    int, Path(ge=1, le=MAX_TRANSACTION_ID, description="transaction_id from a rank answer")
]


class QueryModel(BaseModel):
    """Base of every query string: an unknown parameter is an error, not ignored."""

    model_config = ConfigDict(extra="forbid")


class PageQuery(QueryModel):
    limit: int = Field(default=50, ge=1, le=MAX_PAGE, description=f"items per page, 1-{MAX_PAGE}")
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET, description="items to skip")


class ProjectsQuery(PageQuery):
    status: ProjectStatus | None = Field(default=None, description="only campaigns in this state")


class SeriesQuery(QueryModel):
    bucket: Literal["hour", "day"] = Field(default="hour", description="bucket width (UTC)")


async def _no_query(_query: Annotated[QueryModel, Query()]) -> None:
    """Async so that it runs on the event loop: a sync dependency costs a thread hop."""


NoQuery = Depends(_no_query)
