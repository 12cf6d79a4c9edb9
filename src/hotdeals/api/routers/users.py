"""Customers (management API)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hotdeals.api.params import CustomerId, NoQuery, PageQuery
from hotdeals.api.responses import errors
from hotdeals.api.schemas import PageOut
from hotdeals.api.user_schemas import UserIn, UserOut
from hotdeals.http.auth import AdminDep
from hotdeals.http.deps import StateDep
from hotdeals.services import users

router = APIRouter(prefix="/api/users", tags=["users"], dependencies=[AdminDep])


@router.post(
    "",
    status_code=201,
    response_model=UserOut,
    summary="Register a customer",
    responses=errors(401, 409, 413),
    dependencies=[NoQuery],
)
def create_user(body: UserIn, state: StateDep) -> UserOut:
    """Emails are unique (case-insensitive): a second customer with one email gets a 409."""
    with state.sessions.begin() as session:
        return UserOut.model_validate(users.create_user(session, body.email, body.name))


@router.get(
    "/{customer_id}",
    response_model=UserOut,
    summary="One customer",
    responses=errors(401, 404),
    dependencies=[NoQuery],
)
def get_user(customer_id: CustomerId, state: StateDep) -> UserOut:
    with state.sessions() as session:
        return UserOut.model_validate(users.get_user(session, customer_id))


@router.get(
    "",
    response_model=PageOut[UserOut],
    summary="Customers, a page at a time",
    responses=errors(401),
)
def list_users(state: StateDep, query: Annotated[PageQuery, Query()]) -> PageOut[UserOut]:
    limit, offset = query.limit, query.offset
    with state.sessions() as session:
        page = users.list_users(session, limit=limit, offset=offset)
        return PageOut[UserOut](
            items=[UserOut.model_validate(u) for u in page.items],
            total=page.total,
            limit=limit,
            offset=offset,
        )
