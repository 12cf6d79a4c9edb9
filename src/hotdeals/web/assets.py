"""Our own CSS and JavaScript, and plotly.js served from the installed ``plotly`` package.

The machines are offline, so charts cannot come from a CDN; the ``plotly`` Python package ships
the browser bundle, and we serve that file as it is (nothing third-party is copied into the
repository). Its URL names the package version and every asset URL carries a content hash, so
browsers may cache them for a year: an upgrade changes the URL.
"""

from __future__ import annotations

from importlib import metadata
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from starlette.responses import FileResponse, PlainTextResponse, Response

from hotdeals.web.rendering import ASSET_VERSIONS, STATIC_DIR

router = APIRouter(include_in_schema=False)

LONG_CACHE = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
}
MEDIA_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}

PLOTLY_VERSION = metadata.version("plotly")
PLOTLY_URL = f"/static/vendor/plotly-{PLOTLY_VERSION}.min.js"


def plotly_bundle() -> Path:
    """The minified plotly.js inside the installed package (``plotly/package_data``)."""
    return Path(str(files("plotly") / "package_data" / "plotly.min.js"))


@router.get(PLOTLY_URL)
def plotly_js() -> Response:
    return FileResponse(plotly_bundle(), media_type=MEDIA_TYPES[".js"], headers=LONG_CACHE)


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    """Only files that ship in ``web/static`` (known at start): no path ever reaches the disk
    from the URL."""
    if name not in ASSET_VERSIONS:
        return PlainTextResponse("not found", status_code=404)
    path = STATIC_DIR / name
    return FileResponse(path, media_type=MEDIA_TYPES.get(path.suffix), headers=LONG_CACHE)
