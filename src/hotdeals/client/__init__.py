"""A typed Python client of the Hot Deals API, for a shop's backend: rank, click, manage.

Standalone: it imports nothing else of ``hotdeals`` (only ``httpx`` and ``pydantic``), so a
shop's code depends on this interface, not on the server's internals::

    from hotdeals.client import HotDealsClient

    with HotDealsClient("https://deals.example.com", admin_token=TOKEN) as hotdeals:
        ranking = hotdeals.rank(project_id, customer_id=42, idempotency_key=page_view_id)
        ...  # render ranking.deals; on a click:
        hotdeals.click(deal.click_token)

Answers are frozen dataclasses (:mod:`hotdeals.client.models`); error answers raise a
:class:`HotDealsError` subclass (:mod:`hotdeals.client.errors`); network failures raise
``httpx.TransportError``. :class:`AsyncHotDealsClient` has the same methods, awaited.
"""

from hotdeals.client import calls
from hotdeals.client.calls import Call
from hotdeals.client.client import AsyncHotDealsClient, HotDealsClient
from hotdeals.client.errors import (
    BadRequest,
    Conflict,
    FieldError,
    Gone,
    HotDealsError,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from hotdeals.client.models import (
    Click,
    CurrentProject,
    Deal,
    DealChanges,
    DealStats,
    NewDeal,
    Objective,
    Page,
    Project,
    ProjectChanges,
    ProjectDetail,
    Purchase,
    RankedDeal,
    Ranking,
    SeriesPoint,
    Stats,
    TimeSeries,
    User,
    Winner,
)

__all__ = [
    "AsyncHotDealsClient",
    "BadRequest",
    "Call",
    "Click",
    "Conflict",
    "CurrentProject",
    "Deal",
    "DealChanges",
    "DealStats",
    "FieldError",
    "Gone",
    "HotDealsClient",
    "HotDealsError",
    "NewDeal",
    "NotFound",
    "Objective",
    "Page",
    "Project",
    "ProjectChanges",
    "ProjectDetail",
    "Purchase",
    "RankedDeal",
    "Ranking",
    "RateLimited",
    "SeriesPoint",
    "Stats",
    "TimeSeries",
    "Unauthorized",
    "Unavailable",
    "User",
    "Winner",
    "calls",
]
