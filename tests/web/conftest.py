"""Fixtures of the page tests: the app over TestClient, and a real server driven by Chromium.

Browser tests run ``hotdeals serve`` in its own process (``tests.support.server``) on a fresh
database per backend, and drive Debian's Chromium with Playwright. Without Chromium or
Playwright they are skipped on a developer's machine and fail with ``CI=true``. A failing
browser test leaves a screenshot and the page's HTML in ``test-artifacts/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError
from web_helpers import Clock, LiveServer

from hotdeals.app import create_app
from hotdeals.db.engine import make_engine
from hotdeals.db.migrate import upgrade_to_head
from hotdeals.db.types import utcnow
from tests.conftest import require
from tests.support.postgres import migrated_postgres
from tests.support.server import ServerProcess, api_client

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.fixture
def client(configured: str) -> Iterator[TestClient]:
    """The app on the backend's test database; the admin token is ``test-admin-token``."""
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def clock() -> Clock:
    """A clock that starts at the real now (campaigns' ``created_at`` are real) and stands still."""
    return Clock(utcnow())


@pytest.fixture
def clocked(configured: str, clock: Clock) -> Iterator[TestClient]:
    """Like :func:`client`, with the app reading ``clock`` for schedules and durations."""
    with TestClient(create_app(clock=clock), raise_server_exceptions=False) as client:
        yield client


# Browser tests --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium under Playwright, once for the whole run."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require("Playwright for Python is not installed (pip install playwright)")
    if not CHROMIUM.exists():
        require(f"Chromium is missing at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """``hotdeals serve`` on a fresh, migrated database of each backend.

    Shared by the browser tests of a backend: each test makes its own campaign and opens the
    storefront with ``?project=``, so tests never see each other's data.
    """
    with ExitStack() as stack:
        if request.param == "postgresql":
            try:
                url = stack.enter_context(migrated_postgres())
            except OperationalError as exc:
                require(f"no PostgreSQL server for the browser tests: {exc.orig}")
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'hotdeals.db'}"
            engine = make_engine(url)
            upgrade_to_head(engine)
            engine.dispose()
        server = stack.enter_context(ServerProcess(url))
        api = stack.enter_context(api_client(server.base_url))
        engine = make_engine(url)
        stack.callback(engine.dispose)
        yield LiveServer(server.base_url, api, request.param, engine)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test, so a fixture can tell whether the test failed."""
    report: pytest.TestReport = yield  # type: ignore[misc]
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report  # type: ignore[return-value]


def save_artifacts(page: Page, directory: Path, node_id: str) -> list[Path]:
    """A full-page screenshot and the HTML of ``page``, named after the test."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", node_id).strip("_")
    shot, html = directory / f"{stem}.png", directory / f"{stem}.html"
    page.screenshot(path=str(shot), full_page=True)
    html.write_text(page.content(), encoding="utf-8")
    return [shot, html]


@pytest.fixture
def new_page(chromium: Browser, request: pytest.FixtureRequest) -> Iterator[_PageFactory]:
    """Open pages in fresh browser contexts (own cookies); on failure, save what they showed.

    Uncaught script errors and console errors (a Content-Security-Policy violation, say) fail
    the test: a page that only looks right is not enough.
    """
    factory = _PageFactory(chromium)
    yield factory
    reports = request.node.stash.get(REPORTS, {})
    if "call" in reports and reports["call"].failed:
        directory = request.config.rootpath / "test-artifacts"
        for index, page in enumerate(factory.pages):
            if not page.is_closed():
                saved = save_artifacts(page, directory, f"{request.node.nodeid}-{index}")
                print(f"saved {', '.join(str(p) for p in saved)}")
    errors = factory.errors
    factory.close()
    if errors and not ("call" in reports and reports["call"].failed):
        pytest.fail(f"the pages reported script errors: {errors}", pytrace=False)


class _PageFactory:
    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.pages: list[Page] = []
        self.errors: list[str] = []

    def __call__(self, width: int = 1280, *, javascript: bool = True) -> Page:
        context = self.browser.new_context(
            viewport={"width": width, "height": 900}, java_script_enabled=javascript
        )
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("console", self._console)
        self.pages.append(page)
        return page

    def _console(self, message: ConsoleMessage) -> None:
        """Console errors count, except a refused request (a 401 for a wrong token, a strip's
        409 are the point of some tests); a missing asset or strip script of ours still counts."""
        if message.type != "error":
            return
        url = message.location.get("url", "")
        refused_page = message.text.startswith("Failed to load resource") and not any(
            ours in url for ours in ("/static/", "/embed/")
        )
        if not refused_page:
            self.errors.append(f"console: {message.text} ({message.location.get('url')})")

    def close(self) -> None:
        for page in self.pages:
            page.context.close()
