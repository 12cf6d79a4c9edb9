"""Screenshots of the storefront and the dashboard at desktop and phone widths (`make screenshots`).

Seeds a fresh SQLite file through the services (a campaign of six deals and two days of
back-dated traffic, so the charts have a story to tell), serves it with ``hotdeals serve`` as an
operator would, and drives Debian's Chromium with Playwright. The PNGs land in ``screenshots/``
(git-ignored): look at them after changing a template or the stylesheet.

Run from the repository root: ``PYTHONPATH=. .venv/bin/python scripts/screenshots.py``.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
from playwright.sync_api import Browser, Page, expect, sync_playwright

from hotdeals.db.engine import make_engine, make_session_factory
from hotdeals.db.migrate import upgrade_to_head
from hotdeals.db.types import utcnow
from hotdeals.services import projects, ranking, users
from hotdeals.services.specs import DealSpec, ProjectSpec
from tests.support.server import ADMIN_TOKEN, ServerProcess

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDTHS = (1280, 375)

# name, price, emoji, description, true click-through rate of the simulation
DEALS = [
    ("Strawberries 2 for 1", "3.49", "🍓", "Dutch, 500 g punnets", 0.17),
    ("Tomatoes -30%", "1.99", "🍅", "Vine-ripened, 1 kg", 0.07),
    ("Avocados ripe & ready", "2.50", "🥑", "Pack of four, ready to eat", 0.09),
    ("Sourdough loaf", "2.80", "🍞", "Baked in store every morning", 0.05),
    ("Greek yoghurt 1 kg", "3.20", None, "Creamy, 10% fat", 0.04),
    ("Coffee beans -25%", "7.49", "☕", "Single origin, 500 g", 0.10),
]
POSITION_FACTOR = (1.0, 0.8, 0.6)


def seed(url: str, *, hours: int = 48, ranks_per_hour: int = 8, seed_value: int = 48) -> int:
    """A running campaign with back-dated traffic; returns its project id."""
    engine = make_engine(url)
    upgrade_to_head(engine)
    sessions = make_session_factory(engine)
    rng = np.random.default_rng(seed_value)
    truth: dict[int, float] = {}
    with sessions.begin() as session:
        project = projects.create_project(
            session,
            ProjectSpec(
                project_name="Hot Deals, week 48",
                project_description="Fruit, bakery and breakfast offers on the home page.",
                min_impressions=40,  # so that two days of traffic can name a winner
                bandits=[
                    DealSpec(
                        bandit_name=name, description=description, price=Decimal(price), emoji=emoji
                    )
                    for name, price, emoji, description, _ in DEALS
                ],
            ),
        )
        for bandit, deal in zip(project.bandits, DEALS, strict=True):
            truth[bandit.bandit_id] = deal[4]
        project_id = project.project_id
        customers = [
            users.create_user(session, f"shopper{i}@example.com", f"Shopper {i}").customer_id
            for i in range(40)
        ]
        users.create_user(session, "ann@example.com", "Ann")
    start = utcnow() - timedelta(hours=hours)
    for hour in range(hours):
        for visit in range(ranks_per_hour):
            at = start + timedelta(hours=hour, minutes=visit * 60 / ranks_per_hour)
            customer = int(rng.choice(customers))
            with sessions.begin() as session:
                shown = ranking.rank_deals(session, project_id, customer, rng, at=at)
                for deal in shown.deals:
                    chance = truth[deal.bandit_id] * POSITION_FACTOR[deal.position - 1]
                    if rng.random() < chance:
                        ranking.click(session, deal.transaction_id, at=at + timedelta(seconds=20))
    engine.dispose()
    return project_id


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Browser, width: int) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)
    return context.new_page()


def shoot(page: Page, path: Path) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    page.screenshot(path=str(path), full_page=True)
    note = f"  (overflows by {overflow}px!)" if overflow > 0 else ""
    print(f"wrote {path}{note}")


def storefront(browser: Browser, base: str, out: Path, width: int) -> None:
    page = new_page(browser, width)
    page.goto(f"{base}/")
    shoot(page, out / f"storefront-welcome-{width}.png")
    page.get_by_label("Email").fill("ann@example.com")
    page.get_by_role("button", name="Sign in").click()
    page.locator("hot-deals li").first.wait_for()
    page.locator("hot-deals").get_by_role("button").first.click()
    page.get_by_text("✓ Added").wait_for()
    shoot(page, out / f"storefront-{width}.png")
    page.context.close()


def dashboard(browser: Browser, base: str, out: Path, width: int, project_id: int) -> None:
    page = new_page(browser, width)
    page.goto(f"{base}/admin")
    page.get_by_label("Admin token").fill(ADMIN_TOKEN)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#projects-table").wait_for()
    shoot(page, out / f"dashboard-campaigns-{width}.png")
    page.goto(f"{base}/admin/projects/{project_id}")
    # Locator waits, not wait_for_function: the page's CSP forbids evaluating strings.
    refreshed = re.compile(r"^[1-9]")
    expect(page.locator("#project-dashboard")).to_have_attribute("data-refreshes", refreshed)
    shoot(page, out / f"dashboard-{width}.png")
    page.context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'screenshots.db'}"
        project_id = seed(url)
        with ServerProcess(url) as server, chromium() as browser:
            for width in WIDTHS:
                storefront(browser, server.base_url, args.out, width)
                dashboard(browser, server.base_url, args.out, width, project_id)


if __name__ == "__main__":
    main()
