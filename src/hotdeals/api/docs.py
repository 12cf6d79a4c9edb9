"""The interactive API documentation (``/docs``), served with its assets from a Python package.

FastAPI's default page loads Swagger UI from a CDN, which leaves ``/docs`` blank on a machine
without internet. The ``swagger-ui-bundle`` package ships the same files; we serve them from it
as they are (nothing third-party is copied into this repository).
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from swagger_ui_bundle import swagger_ui_path

router = APIRouter(include_in_schema=False)

ASSETS = Path(swagger_ui_path)
# The package version in the URL: an upgrade changes it, so browsers may cache for a year.
PREFIX = f"/docs-assets/{metadata.version('swagger-ui-bundle')}"
FILES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
LONG_CACHE = {"Cache-Control": "public, max-age=31536000, immutable"}


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=str(request.app.openapi_url),
        title=f"{request.app.title} - API",
        swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{PREFIX}/favicon-32x32.png",
    )


@router.get(PREFIX + "/{name}")
def asset(name: str) -> Response:
    """Only the files named in :data:`FILES`: no path from the URL ever reaches the disk."""
    if name not in FILES:
        return PlainTextResponse("not found", status_code=404)
    return FileResponse(ASSETS / name, media_type=FILES[name], headers=LONG_CACHE)
