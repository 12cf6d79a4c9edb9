"""``hotdeals demo``: a live demo campaign on the configured database, then serve."""

from __future__ import annotations

from typing import Annotated

import typer

from hotdeals.cli import server
from hotdeals.cli.common import database, out, reports_errors
from hotdeals.cli.progress import progress_bar
from hotdeals.config import get_settings
from hotdeals.db.migrate import upgrade_to_head
from hotdeals.services.demo import DEMO_PROJECT_NAME, DemoPlan, seed_demo

DEFAULT = DemoPlan()


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command()(demo)


@reports_errors
def demo(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve after seeding (--no-serve: exit).")
    ] = True,
    customers: Annotated[
        int, typer.Option(min=1, max=100_000, help="Fake customers to register.")
    ] = DEFAULT.customers,
    days: Annotated[
        int, typer.Option(min=1, max=365, help="Days of simulated history, ending now.")
    ] = DEFAULT.days,
    ranks: Annotated[
        int, typer.Option(min=0, max=1_000_000, help="Simulated page views (rank requests).")
    ] = DEFAULT.ranks,
    seed: Annotated[
        int, typer.Option(min=0, help="Seed of the fake customers and their clicks.")
    ] = DEFAULT.seed,
) -> None:
    """Create the schema, seed a demo campaign with a week of history, and serve it.

    The history goes through the real rank and click services, so the
    dashboard shows a policy that learnt. Running it again adds nothing: an
    existing "Supermarket Hot Deals" campaign is kept as it is.

    Example: hotdeals demo --no-serve --customers 300 --days 7
    """
    plan = DemoPlan(customers=customers, days=days, ranks=ranks, seed=seed)
    with database(schema=False) as (engine, sessions):
        upgrade_to_head(engine)
        with progress_bar() as bar:
            task = bar.add_task("simulating a week of traffic", total=plan.ranks)
            result = seed_demo(
                sessions, plan, progress=lambda done: bar.update(task, completed=done)
            )
            if not result.created:
                bar.remove_task(task)
    if result.created:
        out.print(
            f"seeded project {result.project_id} {DEMO_PROJECT_NAME!r}: 6 deals, "
            f"{result.customers} customers, {result.ranks:,} page views over {plan.days} days, "
            f"{result.impressions:,} impressions, {result.clicks:,} clicks"
        )
    else:
        out.print(
            f"project {result.project_id} {DEMO_PROJECT_NAME!r} already exists: nothing seeded"
        )
    if not serve:
        return
    had_token = get_settings().hotdeals_admin_token is not None
    server.ensure_secrets()  # generates and prints the admin token when none is configured
    base = f"http://{host}:{port}"
    out.print(f"storefront: {base}/\ndashboard:  {base}/admin\nAPI docs:   {base}/docs")
    token = get_settings().hotdeals_admin_token
    if had_token and token is not None:
        out.print(f"admin token (HOTDEALS_ADMIN_TOKEN): {token.get_secret_value()}")
    server.serve(host=host, port=port, workers=1)
