"""``GET /metrics``: Prometheus metrics (see :mod:`hotdeals.http.metrics`).

Operational data, no personal data, but it tells an outsider the traffic and the routes: it needs
the admin token (``Authorization: Bearer ...``, which Prometheus sends from its scrape config's
``authorization`` section) unless ``HOTDEALS_METRICS_PUBLIC=true``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from hotdeals.http import metrics
from hotdeals.http.auth import AdminDep
from hotdeals.http.state import AppState


async def prometheus_metrics(request: Request) -> Response:
    """Requests by route and status, latency histograms, rate-limit refusals, the writer's
    batches and queue, the database pool: summed over the workers where the text says so."""
    state: AppState = request.app.state.hotdeals
    return Response(metrics.render(state), media_type=metrics.CONTENT_TYPE)


def make_router(*, public: bool) -> APIRouter:
    """The /metrics route, behind the admin token unless ``public``."""
    router = APIRouter(tags=["health"], dependencies=[] if public else [AdminDep])
    router.add_api_route(
        "/metrics",
        prometheus_metrics,
        methods=["GET"],
        summary="Prometheus metrics",
        response_class=Response,
        responses={
            200: {"content": {"text/plain": {}}, "description": "The Prometheus text format"},
            401: {"description": "Missing or wrong admin token (unless HOTDEALS_METRICS_PUBLIC)"},
        },
    )
    return router
