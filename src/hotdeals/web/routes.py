"""Every page route (storefront, dashboard, assets) on one router, which the app factory mounts.

Routes are thin: they parse the request, call the same services as the API and render a
template. Each page area lives in its own modules: :mod:`.storefront` (``/``), the dashboard
(``/admin``: :mod:`.dashboard_auth`, :mod:`.dashboard`, :mod:`.dashboard_controls`,
:mod:`.dashboard_end`, :mod:`.dashboard_data`) and :mod:`.assets` (our CSS/JS and the bundled
plotly.js). The app factory also calls :func:`hotdeals.web.errors.install`, which shows the
pages the routes' dependencies answer with instead.
"""

from __future__ import annotations

from fastapi import APIRouter

from hotdeals.web import (
    assets,
    dashboard,
    dashboard_auth,
    dashboard_controls,
    dashboard_data,
    dashboard_end,
    embed,
    storefront,
)

router = APIRouter(include_in_schema=False)
router.include_router(storefront.router)
router.include_router(dashboard_auth.router)
router.include_router(dashboard.router)
router.include_router(dashboard_controls.router)
router.include_router(dashboard_end.router)
router.include_router(dashboard_data.router)
router.include_router(assets.router)
router.include_router(embed.router)
