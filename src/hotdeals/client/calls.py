"""Every API operation as a :class:`Call`: the request to send and how to read its answer, no I/O.

Both clients are built from these functions (each of their methods sends one), so the sync and
the async client cannot drift apart; a caller may also build a call and ``send`` it. Only the
fields a caller gives are sent: the server's defaults apply to the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar, Unpack

import httpx
from pydantic import TypeAdapter

from hotdeals.client.errors import raise_for
from hotdeals.client.models import (
    Bucket,
    Click,
    CurrentProject,
    Deal,
    DealChanges,
    NewDeal,
    Objective,
    Page,
    Project,
    ProjectChanges,
    ProjectDetail,
    ProjectStatus,
    Purchase,
    Ranking,
    Stats,
    TimeSeries,
    User,
)

T = TypeVar("T")
Method = Literal["GET", "POST", "PATCH"]


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One request (relative to the client's base URL) and the reader of its 2xx answer."""

    method: Method
    path: str
    read: Callable[[bytes], T]
    json: Any = None
    params: Mapping[str, str | int | list[int]] | None = None
    headers: Mapping[str, str] | None = None

    def result(self, response: httpx.Response) -> T:
        """The answer read as ``T``, or the :class:`~hotdeals.client.errors.HotDealsError` of
        its status."""
        raise_for(response)
        return self.read(response.content)


# One validator per answer type, built on first use (building one takes milliseconds).
_adapters: dict[Any, TypeAdapter[Any]] = {}


def _reader(kind: type[T]) -> Callable[[bytes], T]:
    """Reads a JSON answer as ``kind`` (a dataclass of :mod:`hotdeals.client.models`)."""
    adapter = _adapters.get(kind)
    if adapter is None:
        adapter = _adapters[kind] = TypeAdapter(kind)

    def read(content: bytes) -> T:
        value: T = adapter.validate_json(content)
        return value

    return read


def _text(content: bytes) -> str:
    return content.decode("utf-8")


def _jsonable(value: Any) -> Any:
    """Decimals as strings (exact, as the API reads prices); everything else as it is."""
    return str(value) if isinstance(value, Decimal) else value


def _given(**fields: Any) -> dict[str, Any]:
    """The fields that are not None: an omitted field takes the server's default."""
    return {name: _jsonable(value) for name, value in fields.items() if value is not None}


def _deal(deal: NewDeal | str) -> dict[str, Any]:
    if isinstance(deal, str):
        return {"bandit_name": deal}
    body = _given(
        bandit_name=deal.bandit_name,
        description=deal.description,
        price=deal.price,
        emoji=deal.emoji,
        image_url=deal.image_url,
    )
    if not deal.active:
        body["active"] = False
    return body


# The learning loop ---------------------------------------------------------------------------


def rank(
    project_id: int,
    *,
    visitor_id: str | None = None,
    customer_id: int | None = None,
    k: int | None = None,
    idempotency_key: str | None = None,
) -> Call[Ranking]:
    """The deals to show, best first, each logged as an impression with its ``click_token``.

    Give exactly one of ``visitor_id`` (a page's anonymous visitor, open) and ``customer_id``
    (a signed-in customer: needs the admin token). ``k`` defaults to the campaign's slots. One
    ``idempotency_key`` per page view makes a retry return the same deals, logged once.
    :class:`~hotdeals.client.errors.Conflict` when the campaign is paused, ended or empty.
    """
    if (visitor_id is None) == (customer_id is None):
        raise ValueError("give exactly one of visitor_id and customer_id")
    headers = None if idempotency_key is None else {"Idempotency-Key": idempotency_key}
    body = _given(visitor_id=visitor_id, customer_id=customer_id, k=k)
    return Call("POST", f"/api/projects/{project_id}/rank", _reader(Ranking), body, None, headers)


def click(token: str) -> Call[Click]:
    """Report a click with a ranked deal's ``click_token`` (open). Idempotent: a repeat says
    ``already_recorded``. :class:`~hotdeals.client.errors.Gone` when the token has expired,
    :class:`~hotdeals.client.errors.BadRequest` when it is not one of this service's."""
    return Call("POST", "/api/clicks", _reader(Click), {"token": token})


def click_by_id(transaction_id: int) -> Call[Click]:
    """Report a click by the ranked deal's ``transaction_id`` (admin). Idempotent, like
    :func:`click`."""
    return Call("POST", f"/api/transactions/{transaction_id}/click", _reader(Click))


def purchase(
    token: str,
    value: Decimal | str,
    *,
    quantity: int | None = None,
    currency: str | None = None,
    order_id: str | None = None,
) -> Call[Purchase]:
    """Report a purchase with a ranked deal's ``click_token`` (open): ``value`` is the total in
    the campaign's currency, at most the deal's price x ``quantity``. Once per ``order_id`` (or
    once per impression without one); implies the click."""
    body = _given(value=str(value), quantity=quantity, currency=currency, order_id=order_id)
    return Call("POST", "/api/purchases", _reader(Purchase), {"token": token, **body})


def purchase_by_id(
    transaction_id: int,
    value: Decimal | str,
    *,
    quantity: int | None = None,
    currency: str | None = None,
    order_id: str | None = None,
) -> Call[Purchase]:
    """Report a purchase by the impression's ``transaction_id`` (admin: the shop's backend);
    any positive value, idempotent like :func:`purchase`."""
    body = _given(value=str(value), quantity=quantity, currency=currency, order_id=order_id)
    path = f"/api/transactions/{transaction_id}/purchase"
    return Call("POST", path, _reader(Purchase), body)


def current_project() -> Call[CurrentProject]:
    """The campaign a page shows when it names none (open);
    :class:`~hotdeals.client.errors.NotFound` when none runs."""
    return Call("GET", "/api/projects/current", _reader(CurrentProject))


# Campaigns and deals (admin) -------------------------------------------------------------------


def create_project(
    project_name: str,
    *,
    deals: Iterable[NewDeal | str] = (),
    project_description: str | None = None,
    policy: str | None = None,
    slots: int | None = None,
    currency: str | None = None,
    epsilon: float | None = None,
    prior_alpha: float | None = None,
    prior_beta: float | None = None,
    min_prob_best: float | None = None,
    min_impressions: int | None = None,
    objective: Objective | None = None,
) -> Call[ProjectDetail]:
    """A running campaign with these deals (a name or a :class:`NewDeal` each). Omitted
    settings take the server's defaults (Thompson sampling, 3 slots, EUR, ...)."""
    body = _given(
        project_name=project_name,
        project_description=project_description,
        policy=policy,
        slots=slots,
        currency=currency,
        epsilon=epsilon,
        prior_alpha=prior_alpha,
        prior_beta=prior_beta,
        min_prob_best=min_prob_best,
        min_impressions=min_impressions,
        objective=objective,
    )
    body["bandits"] = [_deal(deal) for deal in deals]
    return Call("POST", "/api/projects", _reader(ProjectDetail), body)


def get_project(project_id: int) -> Call[ProjectDetail]:
    """One campaign with its deals."""
    return Call("GET", f"/api/projects/{project_id}", _reader(ProjectDetail))


def list_projects(
    *, status: ProjectStatus | None = None, limit: int | None = None, offset: int | None = None
) -> Call[Page[Project]]:
    """Campaigns, newest first, a page at a time (``limit`` 1-500, default 50)."""
    params = _given(status=status, limit=limit, offset=offset)
    return Call("GET", "/api/projects", _reader(Page[Project]), None, params)


def update_project(project_id: int, **changes: Unpack[ProjectChanges]) -> Call[ProjectDetail]:
    """Change settings, pause (``status="paused"``), resume, or end a campaign, optionally
    naming its winner (``status="ended", winner_bandit_id=...``)."""
    body = {name: _jsonable(value) for name, value in changes.items()}
    return Call("PATCH", f"/api/projects/{project_id}", _reader(ProjectDetail), body)


def add_deal(project_id: int, deal: NewDeal | str) -> Call[Deal]:
    """Add a deal to a campaign; it starts at the prior and is explored at once."""
    return Call("POST", f"/api/projects/{project_id}/bandits", _reader(Deal), _deal(deal))


def list_deals(project_id: int) -> Call[tuple[Deal, ...]]:
    """A campaign's deals with their posteriors and counters."""
    return Call("GET", f"/api/projects/{project_id}/bandits", _reader(tuple[Deal, ...]))


def update_deal(bandit_id: int, **changes: Unpack[DealChanges]) -> Call[Deal]:
    """Rename, redescribe, reprice or deactivate (``active=False``) a deal."""
    body = {name: _jsonable(value) for name, value in changes.items()}
    return Call("PATCH", f"/api/bandits/{bandit_id}", _reader(Deal), body)


# Customers (admin) -----------------------------------------------------------------------------


def create_user(email: str, name: str) -> Call[User]:
    """Register a customer; :class:`~hotdeals.client.errors.Conflict` for a known email."""
    return Call("POST", "/api/users", _reader(User), {"email": email, "name": name})


def get_user(customer_id: int) -> Call[User]:
    return Call("GET", f"/api/users/{customer_id}", _reader(User))


def list_users(*, limit: int | None = None, offset: int | None = None) -> Call[Page[User]]:
    """Customers, a page at a time (``limit`` 1-500, default 50)."""
    return Call("GET", "/api/users", _reader(Page[User]), None, _given(limit=limit, offset=offset))


# Analytics (admin) -----------------------------------------------------------------------------


def stats(project_id: int) -> Call[Stats]:
    """Per deal: impressions, clicks, CTR, credible interval, P(best), expected loss; and the
    winner, if any."""
    return Call("GET", f"/api/projects/{project_id}/stats", _reader(Stats))


def timeseries(
    project_id: int, *, bucket: Bucket = "hour", bandit_ids: Iterable[int] | None = None
) -> Call[TimeSeries]:
    """Impressions, clicks, purchases and revenue per deal per hour or day (UTC); only the
    deals ``bandit_ids`` when given (at most 100)."""
    path = f"/api/projects/{project_id}/timeseries"
    params: dict[str, str | int | list[int]] = {"bucket": bucket}
    if bandit_ids is not None:
        params["bandit_id"] = list(bandit_ids)
    return Call("GET", path, _reader(TimeSeries), None, params)


def transactions_csv(project_id: int) -> Call[str]:
    """The campaign's impression log as CSV text, one row per impression."""
    return Call("GET", f"/api/projects/{project_id}/transactions.csv", _text)
