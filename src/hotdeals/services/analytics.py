"""What the analyst sees: per-deal statistics, traffic over time, and the raw log as CSV.

Aggregation happens in the database (counters on ``bandits``, GROUP BY on ``transactions``);
only one row per deal, or per deal and time bucket, ever reaches Python.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import numpy as np
from sqlalchemy import ColumnElement, Engine, case, func, select
from sqlalchemy.orm import Session

from hotdeals.bandit import WinnerRule, arm_statistics, credible_interval, posterior_mean
from hotdeals.db.models import Bandit, Project, Transaction
from hotdeals.db.types import utcnow
from hotdeals.errors import ProjectNotFound

Bucket = Literal["hour", "day"]


@dataclass(frozen=True, slots=True)
class DealStats:
    """One deal's figures; the Bayesian ones are None for a deactivated deal."""

    bandit_id: int
    bandit_name: str
    active: bool
    impressions: int
    clicks: int
    ctr: float
    posterior_mean: float
    ci_low: float
    ci_high: float
    prob_best: float | None
    expected_loss: float | None
    share_last_24h: float


@dataclass(frozen=True, slots=True)
class Winner:
    bandit_id: int
    bandit_name: str
    prob_best: float


@dataclass(frozen=True, slots=True)
class ProjectStats:
    project_id: int
    bandits: list[DealStats]
    winner: Winner | None


def require_project(session: Session, project_id: int) -> Project:
    """The project, or :class:`ProjectNotFound`."""
    project = session.get(Project, project_id)
    if project is None:
        raise ProjectNotFound(f"project {project_id} does not exist")
    return project


def project_stats(session: Session, project_id: int, *, draws: int = 20_000) -> ProjectStats:
    """Per-deal CTR, 95% credible interval, P(best) and expected loss, and the winner if any.

    P(best) compares the active deals only: a deactivated deal cannot be shown, so it cannot
    win. The Monte Carlo generator is seeded from the counts, so the same data always gives the
    same figures (a dashboard refresh does not flicker).
    """
    project = require_project(session, project_id)
    since = utcnow() - timedelta(hours=24)
    recent = dict(
        session.execute(
            select(Transaction.bandit_id, func.count())
            .where(Transaction.project_id == project_id, Transaction.timestamp >= since)
            .group_by(Transaction.bandit_id)
        ).all()
    )
    total_recent = sum(recent.values())
    arms = session.scalars(
        select(Bandit).where(Bandit.project_id == project_id).order_by(Bandit.bandit_id)
    ).all()
    if not arms:
        return ProjectStats(project_id, [], None)
    alpha = np.array([a.alpha for a in arms])
    beta = np.array([a.beta for a in arms])
    active = np.array([a.active for a in arms], dtype=bool)
    seed = [project_id, *(int(a.n) for a in arms), *(int(a.number_of_success) for a in arms)]
    # Mean and interval are closed-form for every deal; only P(best) needs the Monte Carlo
    # draws, and only among the active deals.
    mean = posterior_mean(alpha, beta)
    ci_low, ci_high = credible_interval(alpha, beta)
    prob_best = np.full(len(arms), np.nan)
    loss = np.full(len(arms), np.nan)
    winner: Winner | None = None
    if active.any():
        live = arm_statistics(alpha[active], beta[active], np.random.default_rng(seed), draws=draws)
        prob_best[active] = live.prob_best
        loss[active] = live.expected_loss
        rule = WinnerRule(
            min_prob_best=project.min_prob_best, min_impressions=project.min_impressions
        )
        impressions = np.array([a.n for a in arms], dtype=np.int64)[active]
        pick = rule.pick(live, impressions)
        if pick is not None:
            best = [a for a, on in zip(arms, active, strict=True) if on][pick]
            winner = Winner(best.bandit_id, best.bandit_name, float(live.prob_best[pick]))
    deals = [
        DealStats(
            bandit_id=arm.bandit_id,
            bandit_name=arm.bandit_name,
            active=arm.active,
            impressions=arm.n,
            clicks=arm.number_of_success,
            ctr=arm.number_of_success / arm.n if arm.n else 0.0,
            posterior_mean=float(mean[i]),
            ci_low=float(ci_low[i]),
            ci_high=float(ci_high[i]),
            prob_best=None if np.isnan(prob_best[i]) else float(prob_best[i]),
            expected_loss=None if np.isnan(loss[i]) else float(loss[i]),
            share_last_24h=recent.get(arm.bandit_id, 0) / total_recent if total_recent else 0.0,
        )
        for i, arm in enumerate(arms)
    ]
    return ProjectStats(project_id, deals, winner)


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    bucket_start: datetime
    bandit_id: int
    impressions: int
    clicks: int


def _bucket_expression(dialect: str, bucket: Bucket) -> ColumnElement[str]:
    if dialect == "postgresql":
        return func.to_char(
            func.date_trunc(bucket, func.timezone("UTC", Transaction.timestamp)),
            "YYYY-MM-DD HH24:MI:SS",
        )
    pattern = "%Y-%m-%d %H:00:00" if bucket == "hour" else "%Y-%m-%d 00:00:00"
    return func.strftime(pattern, Transaction.timestamp)


def time_series(
    session: Session,
    project_id: int,
    bucket: Bucket = "hour",
    *,
    since: datetime | None = None,
) -> list[SeriesPoint]:
    """Impressions and clicks per deal per hour or day (UTC), oldest first."""
    require_project(session, project_id)
    start = _bucket_expression(session.get_bind().dialect.name, bucket).label("bucket_start")
    query = (
        select(
            start,
            Transaction.bandit_id,
            func.count().label("impressions"),
            func.sum(case((Transaction.clicked, 1), else_=0)).label("clicks"),
        )
        .where(Transaction.project_id == project_id)
        .group_by(start, Transaction.bandit_id)
        .order_by(start, Transaction.bandit_id)
    )
    if since is not None:
        query = query.where(Transaction.timestamp >= since)
    return [
        SeriesPoint(
            datetime.fromisoformat(row.bucket_start + "+00:00"),
            row.bandit_id,
            int(row.impressions),
            int(row.clicks),
        )
        for row in session.execute(query)
    ]


CSV_COLUMNS = (
    "transaction_id",
    "timestamp",
    "customer_id",
    "project_id",
    "bandit_id",
    "bandit_name",
    "position",
    "clicked",
    "clicked_at",
)


def export_rows(
    engine: Engine, project_id: int, *, chunk: int = 5_000
) -> Iterator[tuple[object, ...]]:
    """The project's log in id order, fetched in chunks (constant memory on any log size)."""
    with Session(engine) as session:
        query = (
            select(
                Transaction.transaction_id,
                Transaction.timestamp,
                Transaction.customer_id,
                Transaction.project_id,
                Transaction.bandit_id,
                Bandit.bandit_name,
                Transaction.position,
                Transaction.clicked,
                Transaction.clicked_at,
            )
            .join(Bandit, Bandit.bandit_id == Transaction.bandit_id)
            .where(Transaction.project_id == project_id)
            .order_by(Transaction.transaction_id)
            .execution_options(yield_per=chunk)
        )
        for row in session.execute(query):
            yield tuple(row)


def csv_chunks(rows: Iterator[tuple[object, ...]], *, rows_per_chunk: int = 1_000) -> Iterator[str]:
    """CSV text in pieces for a streamed HTTP response; timestamps in ISO 8601 UTC."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for count, row in enumerate(rows, start=1):
        writer.writerow(
            ["" if v is None else v.isoformat() if isinstance(v, datetime) else v for v in row]
        )
        if count % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
