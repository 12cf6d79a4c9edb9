"""Path and query parameters of the API, bounded by the vocabulary's limits.

An id past its column's range is a 422 that says so, never a driver overflow. Query strings are
models that forbid unknown fields, so a misspelt parameter (``?limt=10``) is a 422 naming it
instead of being silently ignored; a route without parameters takes :data:`NoQuery`. The two
hot routes read their JSON bodies with :func:`json_body`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

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


MAX_SERIES_DEALS = 100


class SeriesQuery(QueryModel):
    bucket: Literal["hour", "day"] = Field(default="hour", description="bucket width (UTC)")
    bandit_id: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        default=None,
        max_length=MAX_SERIES_DEALS,
        description=(
            "only these deals (repeat the parameter: `?bandit_id=3&bandit_id=5`), each a deal "
            f"of the campaign, at most {MAX_SERIES_DEALS}; every deal by default (a campaign "
            "of a thousand deals has megabytes of series)"
        ),
    )


def no_query(request: Request) -> None:
    """Any query parameter is unknown here: the same 422 as a query model's (``loc``
    ``["query", name]``, ``extra_forbidden``), read off the raw scope. Async so that it runs on
    the event loop (a sync dependency costs a thread hop), and no model: FastAPI's validation of
    an empty query model cost rank and click ~20 us a request, measured."""
    if request.scope.get("query_string") and (given := request.query_params.multi_items()):
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("query", name),
                    "msg": "Extra inputs are not permitted",
                    "input": value,
                }
                for name, value in given
            ]
        )


async def _no_query(request: Request) -> None:
    """:func:`no_query` as a dependency; async, so it runs on the event loop (no thread hop)."""
    no_query(request)


NoQuery = Depends(_no_query)


M = TypeVar("M", bound=BaseModel)


async def json_body(request: Request, model: type[M]) -> M:
    """The request's JSON body as ``model``, or the same 422 as FastAPI's (``loc`` starting
    with ``body``).

    For rank and click, the busiest routes: pydantic parses the bytes in one call, where
    FastAPI's generic body handling (decode, then validate field by field) costs ~10 us more
    per request, measured. :func:`body_doc` keeps the model in the OpenAPI document.
    """
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as exc:
        problems = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(problems) from None


# The models read by json_body, added to the OpenAPI components by document_bodies.
_BODIES: dict[str, type[BaseModel]] = {}
_REF = "#/components/schemas/{model}"


def body_doc(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` of a route that reads ``model`` with :func:`json_body`: a reference
    to the model's schema, which :func:`document_bodies` adds under its own name (so client
    generators name it as FastAPI would)."""
    _BODIES[model.__name__] = model
    reference = {"$ref": _REF.format(model=model.__name__)}
    return {
        "requestBody": {"required": True, "content": {"application/json": {"schema": reference}}}
    }


def document_bodies(openapi: dict[str, Any]) -> dict[str, Any]:
    """Add the schemas of the :func:`body_doc` models to an OpenAPI document's components."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    for name, model in _BODIES.items():
        schemas.setdefault(name, model.model_json_schema(ref_template=_REF))
    return openapi
