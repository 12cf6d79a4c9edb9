"""The demo campaign: six deals, a few hundred customers and a simulated week of traffic.

The history goes through the real learning loop (``rank_deals`` and ``click`` with back-dated
timestamps), not through bulk inserts, so the demo shows what the service really does: the
policy starts blind, learns from every click, and shifts the traffic to the better deals over
the week. Every counter is therefore exactly what live traffic would have left, and
``hotdeals db-check`` passes on the result.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

import numpy as np
from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotdeals.db.models import Project, User
from hotdeals.db.types import utcnow
from hotdeals.errors import InvalidRequest
from hotdeals.services import ranking
from hotdeals.services.projects import create_project
from hotdeals.services.slot_effects import ExaminationFits
from hotdeals.services.specs import DealSpec, ProjectSpec
from hotdeals.services.users import create_user, find_user_by_email

__all__ = ["DEMO_DEALS", "DEMO_PROJECT_NAME", "DemoDeal", "DemoPlan", "DemoResult", "seed_demo"]

DEMO_PROJECT_NAME: Final = "Supermarket Hot Deals"


@dataclass(frozen=True, slots=True)
class DemoDeal:
    """A deal of the demo and the click rate its simulated customers have for it."""

    name: str
    price: str
    emoji: str
    description: str
    true_rate: float


# Rates differ enough that a week of traffic separates the best two deals from the rest.
DEMO_DEALS: Final = (
    DemoDeal("Strawberries 2 for 1", "3.49", "🍓", "Dutch strawberries, two 500 g punnets", 0.14),
    DemoDeal("Tomatoes -30%", "1.99", "🍅", "Vine tomatoes, 1 kg, sweet and ripe", 0.09),
    DemoDeal("Cucumbers 3 for 2", "1.29", "🥒", "Crunchy snack cucumbers from Almería", 0.04),
    DemoDeal("Spinach -25%", "1.49", "🥬", "Baby spinach, washed, 300 g bag", 0.03),
    DemoDeal("Ginger -40%", "0.89", "🫚", "Fresh ginger root, about 250 g", 0.05),
    DemoDeal("Peppers trio", "2.19", "🫑", "Red, yellow and green bell peppers", 0.11),
)

# Relative traffic per hour of the day (UTC): quiet nights, a lunch bump and an evening peak.
_HOURLY_TRAFFIC: Final = np.array(
    [2, 1, 1, 1, 1, 2, 4, 6, 7, 7, 7, 8, 9, 8, 7, 7, 8, 10, 12, 12, 11, 9, 6, 4], dtype=np.float64
)


@dataclass(frozen=True, slots=True)
class DemoPlan:
    """How much demo to make; the defaults give a lively dashboard in a few seconds."""

    customers: int = 300
    days: int = 7
    ranks: int = 2_000
    seed: int = 2024
    ranks_per_transaction: int = 100

    def __post_init__(self) -> None:
        for name in ("customers", "days", "ranks_per_transaction"):
            if getattr(self, name) < 1:
                raise InvalidRequest(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.ranks < 0 or self.seed < 0:
            raise InvalidRequest("ranks and seed must be >= 0")


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What seeding did; ``created`` is False when the demo campaign was already there."""

    project_id: int
    created: bool
    customers: int = 0
    ranks: int = 0
    impressions: int = 0
    clicks: int = 0


def seed_demo(
    sessions: sessionmaker[Session],
    plan: DemoPlan | None = None,
    *,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> DemoResult:
    """Create the demo campaign with its history, unless a campaign of that name exists.

    The campaign and its customers are one transaction; the history is replayed in batches of
    ``ranks_per_transaction`` ranks per transaction, which keeps it to seconds on PostgreSQL as
    well as SQLite. ``progress`` receives the number of ranks done after each batch.
    """
    plan = plan or DemoPlan()
    end = now or utcnow()
    start = end - timedelta(days=plan.days)
    rng = np.random.default_rng(plan.seed)
    with sessions.begin() as session:
        existing = session.scalars(
            select(Project.project_id)
            .where(Project.project_name == DEMO_PROJECT_NAME)
            .order_by(Project.project_id)
        ).first()
        if existing is not None:
            return DemoResult(existing, created=False)
        project_id, rates = _create_campaign(session, start)
        customer_ids = _create_customers(session, plan, start)

    moments = _traffic_times(rng, start, end, plan.ranks)
    impressions = clicks = 0
    # The slots' examination is refitted every 500 ranks of the simulated week (the rank path
    # refits every 30 s): the fits' clock counts impressions here.
    fits = ExaminationFits(ttl_s=500 * 3, clock=lambda: impressions)
    for first in range(0, plan.ranks, plan.ranks_per_transaction):
        with sessions.begin() as session:
            # Holding the project keeps it in the session's identity map (a weak one), so
            # rank_deals finds it there instead of loading it again on every call.
            project = session.get_one(Project, project_id)
            for at in moments[first : first + plan.ranks_per_transaction]:
                customer = customer_ids[int(rng.integers(len(customer_ids)))]
                shown = ranking.rank_deals(
                    session, project.project_id, customer, rng, at=at, fits=fits
                )
                impressions += len(shown.deals)
                for deal in shown.deals:
                    if rng.random() < rates[deal.bandit_id]:
                        delay = timedelta(seconds=float(rng.uniform(2.0, 90.0)))
                        ranking.click(session, deal.transaction_id, at=min(at + delay, end))
                        clicks += 1
        if progress is not None:
            progress(min(first + plan.ranks_per_transaction, plan.ranks))
    return DemoResult(project_id, True, len(customer_ids), plan.ranks, impressions, clicks)


def _create_campaign(session: Session, start: datetime) -> tuple[int, dict[int, float]]:
    """The running campaign; returns its id and each deal's true click rate by bandit id."""
    project = create_project(
        session,
        ProjectSpec(
            project_name=DEMO_PROJECT_NAME,
            project_description="This week's fruit and vegetable deals on the home page.",
            bandits=[
                DealSpec(
                    bandit_name=d.name,
                    description=d.description,
                    price=Decimal(d.price),
                    emoji=d.emoji,
                )
                for d in DEMO_DEALS
            ],
        ),
    )
    # Back-dated like its history, so the dashboard does not show a campaign younger than its log.
    project.created_at = start
    rates = {d.name: d.true_rate for d in DEMO_DEALS}
    for bandit in project.bandits:
        bandit.created_at = start
    return project.project_id, {b.bandit_id: rates[b.bandit_name] for b in project.bandits}


def _create_customers(session: Session, plan: DemoPlan, start: datetime) -> list[int]:
    """Seeded fake customers; one already registered under a demo email is reused, not doubled."""
    fake = Faker()
    fake.seed_instance(plan.seed)
    ids: list[int] = []
    for number in range(1, plan.customers + 1):
        first, last = fake.first_name(), fake.last_name()
        email = f"{_ascii(first)}.{_ascii(last)}{number}@example.com"
        user: User | None = find_user_by_email(session, email)
        if user is None:
            user = create_user(session, email, f"{first} {last}")
            user.created_at = start
        ids.append(user.customer_id)
    return ids


def _ascii(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower()) or "customer"


def _traffic_times(
    rng: np.random.Generator, start: datetime, end: datetime, count: int
) -> list[datetime]:
    """``count`` moments in [start, end), in order, denser in the day than at night."""
    span = (end - start).total_seconds()
    offsets = np.empty(0, dtype=np.float64)
    weight = _HOURLY_TRAFFIC / _HOURLY_TRAFFIC.max()
    while len(offsets) < count:
        candidates = rng.uniform(0.0, span, size=2 * count)
        hours = ((start.hour * 3600 + start.minute * 60 + candidates) // 3600 % 24).astype(int)
        offsets = np.concatenate([offsets, candidates[rng.random(2 * count) < weight[hours]]])
    return [start + timedelta(seconds=float(s)) for s in np.sort(offsets[:count])]
