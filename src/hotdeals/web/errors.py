"""How a page's dependency ends a request early: it raises :class:`ShowPage` with the answer.

A dependency that refuses (not signed in, a forged form, an id that names nothing) has the
response ready; :func:`install`, called once by the app factory, registers the handler that
sends it as it is. The JSON API's error handlers (``hotdeals.http.errors``) never see it.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import Response


class ShowPage(Exception):
    """Answer with ``response`` instead of running the route."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def show_page(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ShowPage)
    return exc.response


def install(app: FastAPI) -> None:
    """Register the handler of :class:`ShowPage`; called once by the app factory."""
    app.add_exception_handler(ShowPage, show_page)
