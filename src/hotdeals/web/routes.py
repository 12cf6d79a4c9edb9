"""The storefront and dashboard routes (issue 4), gathered on one router that the app includes.

Routes are thin: they parse the request, call the same services as the API and render a
template. Each page area lives in its own module: :mod:`.storefront` (``/``),
:mod:`.dashboard` (``/admin``) and :mod:`.assets` (our CSS/JS and the bundled plotly.js).
"""

from __future__ import annotations

from fastapi import APIRouter

from hotdeals.web import assets, dashboard, storefront

router = APIRouter(include_in_schema=False)
router.include_router(storefront.router)
router.include_router(dashboard.router)
router.include_router(assets.router)
