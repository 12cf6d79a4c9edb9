"""The embeddable strip: ``/embed/hot-deals.js``, which a shop loads on its own page (any origin).

``<hot-deals project="ID">`` ranks through the open API, draws the deals and reports clicks
(``web/static/embed/hot-deals.js``; docs/integrate.md shows a shop how). The script is public,
so any origin may read it (``Access-Control-Allow-Origin: *``). Two URLs serve the same bytes:
``/embed/{version}/hot-deals.js`` names this package's version and is cached for a year (an
upgrade changes the URL), ``/embed/hot-deals.js`` always follows the deployment and is cached
for five minutes (a shop that wants upgrades without editing its page), revalidated by ETag.
"""

from __future__ import annotations

import hashlib
from functools import cache

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from hotdeals import __version__
from hotdeals.web.assets import LONG_CACHE, MEDIA_TYPES
from hotdeals.web.rendering import STATIC_DIR

router = APIRouter(include_in_schema=False)

SCRIPT = STATIC_DIR / "embed" / "hot-deals.js"
SHORT_CACHE = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
# Readable from any origin, with or without ``crossorigin`` on the tag, even on pages that
# isolate themselves (``Cross-Origin-Embedder-Policy: require-corp``).
PUBLIC = {"Access-Control-Allow-Origin": "*", "Cross-Origin-Resource-Policy": "cross-origin"}


def script_path() -> str:
    """The versioned script's path on this deployment, for a ``<script src>`` of our own pages."""
    return f"/embed/{__version__}/hot-deals.js"


@cache
def script() -> tuple[bytes, str]:
    """The script's bytes and their ETag, read from the package once."""
    body = SCRIPT.read_bytes()
    return body, f'"{hashlib.sha256(body).hexdigest()[:16]}"'


def serve_script(request: Request, caching: dict[str, str]) -> Response:
    """The script with ``caching``; 304 when the browser already holds these bytes."""
    body, etag = script()
    headers = {**caching, **PUBLIC, "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MEDIA_TYPES[".js"], headers=headers)


@router.get("/embed/hot-deals.js")
def latest_script(request: Request) -> Response:
    return serve_script(request, SHORT_CACHE)


@router.get("/embed/{version}/hot-deals.js")
def versioned_script(request: Request, version: str) -> Response:
    """Only this deployment's version: an old or future one would be cached for a year."""
    if version != __version__:
        return JSONResponse(
            {"detail": f"no strip of version {version!r} here; this is {__version__}"},
            status_code=404,
            headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
        )
    return serve_script(request, LONG_CACHE)
