"""Forgetting's state per deal: impressions and clicks weighted by their age, beside the counters.

A campaign with a half-life ``h`` ranks from discounted posteriors: at a reference time ``T``
each impression shown at ``t`` weighs ``0.5 ** ((T - t) / h)`` and each click likewise from the
time it was counted. A deal keeps the two weighted sums as of ``discounted_at`` (Unix seconds),
so moving them to a later time is one multiplication, and an event counted later is added with
its own weight: the state is a pure function of the log (:func:`rebuilt_from_log`), so
``db-check`` verifies it and ``--repair`` rebuilds it, like the exact counters it sits beside.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Float, case, cast, func, literal, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from hotdeals.bandit.forgetting import decay
from hotdeals.db.models import Bandit, Base, Project, Transaction

BANDITS = Base.metadata.tables["bandits"]
SECONDS_PER_HOUR = 3600.0
_COLUMNS = ("discounted_impressions", "discounted_clicks")
# The sums are floating point: a relative tolerance, far above their rounding and far below a
# recent event (weight 0.5 ** (age / h)): what is lost is events older than ~20 half-lives.
_TOLERANCE = 1e-6


@dataclass(slots=True)
class EventTimes:
    """When each deal's impressions were shown and its first clicks counted, in Unix seconds."""

    shown: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    clicked: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))


def apply_discounted(session: Session, half_lives: Mapping[int, float], times: EventTimes) -> None:
    """Add the events of the deals in ``half_lives`` (hours) to their discounted state.

    One UPDATE for all of them, in ``bandit_id`` order like the counters (the rows are already
    locked by them in this transaction). Each deal moves to ``t``, its latest event, and adds
    every event with its own weight ``0.5 ** ((t - event) / h)`` (1 for the batch's own).
    """
    ids = sorted(b for b in half_lives if times.shown.get(b) or times.clicked.get(b))
    if not ids:
        return
    at: dict[int, float] = {}
    added_shown: dict[int, float] = {}
    added_clicks: dict[int, float] = {}
    for b in ids:
        h = half_lives[b] * SECONDS_PER_HOUR
        events = [*times.shown.get(b, ()), *times.clicked.get(b, ())]
        at[b] = max(events)
        added_shown[b] = sum(decay(at[b] - t, h) for t in times.shown.get(b, ()))
        added_clicks[b] = sum(decay(at[b] - t, h) for t in times.clicked.get(b, ()))
    table = BANDITS.c
    reference = case(at, value=table.bandit_id)
    seconds = case({b: half_lives[b] * SECONDS_PER_HOUR for b in ids}, value=table.bandit_id)
    factor = func.power(0.5, (reference - func.coalesce(table.discounted_at, reference)) / seconds)
    session.execute(
        update(BANDITS)
        .where(table.bandit_id.in_(ids))
        .values(
            discounted_impressions=table.discounted_impressions * factor
            + case(added_shown, value=table.bandit_id),
            discounted_clicks=table.discounted_clicks * factor
            + case(added_clicks, value=table.bandit_id),
            discounted_at=reference,
        )
    )


class DiscountedState(Protocol):
    """What :func:`seen_at` reads of a deal: a ``bandits`` row, or a query row with these."""

    @property
    def discounted_impressions(self) -> float: ...
    @property
    def discounted_clicks(self) -> float: ...
    @property
    def discounted_at(self) -> float | None: ...


def seen_at(bandit: DiscountedState, to: float, half_life_hours: float) -> tuple[float, float]:
    """A deal's discounted (impressions, clicks), kept as of ``discounted_at``, seen at ``to``
    (zeros while nothing was kept)."""
    if bandit.discounted_at is None:
        return 0.0, 0.0
    factor = decay(to - bandit.discounted_at, half_life_hours * SECONDS_PER_HOUR)
    return bandit.discounted_impressions * factor, bandit.discounted_clicks * factor


def _epoch(dialect: str, column: InstrumentedAttribute[Any]) -> ColumnElement[float]:
    """Unix seconds of a timestamp column, in SQL."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", column), Float)
    return (func.julianday(column) - 2440587.5) * 86400.0


def rebuilt_from_log(
    session: Session, project_ids: Sequence[int] | None, at: float
) -> dict[int, tuple[float, float]]:
    """Each forgetting deal's discounted (impressions, clicks) at ``at``, from the log alone.

    Two grouped scans in SQL (impressions by their time, clicks by the time they were counted),
    only over the campaigns with a half-life; deals without events are absent.
    """
    dialect = session.get_bind().dialect.name
    h = Project.half_life_hours * SECONDS_PER_HOUR
    found: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for index, (moment, only_clicked) in enumerate(
        ((Transaction.timestamp, False), (Transaction.clicked_at, True))
    ):
        weight = func.power(0.5, (literal(at) - _epoch(dialect, moment)) / h)
        query = (
            select(Transaction.bandit_id, func.sum(weight))
            .join(Project, Project.project_id == Transaction.project_id)
            .where(Project.half_life_hours.is_not(None))
            .group_by(Transaction.bandit_id)
        )
        if only_clicked:
            query = query.where(Transaction.clicked.is_(True), Transaction.clicked_at.is_not(None))
        if project_ids is not None:
            query = query.where(Transaction.project_id.in_(project_ids))
        for bandit_id, total in session.execute(query):
            found[bandit_id][index] = float(total or 0.0)
    return {b: (v[0], v[1]) for b, v in found.items()}


def _forgetting_deals(
    session: Session, project_ids: Sequence[int] | None
) -> list[tuple[Bandit, float]]:
    """The deals of campaigns with a half-life, with it, in ``bandit_id`` order."""
    query = (
        select(Bandit, Project.half_life_hours)
        .join(Project, Project.project_id == Bandit.project_id)
        .where(Project.half_life_hours.is_not(None))
        .order_by(Bandit.bandit_id)
    )
    if project_ids is not None:
        query = query.where(Bandit.project_id.in_(project_ids))
    return [(bandit, float(h or 0.0)) for bandit, h in session.execute(query)]


def _compared(
    session: Session, project_ids: Sequence[int] | None, at: float
) -> list[tuple[Bandit, tuple[float, float], tuple[float, float]]]:
    """Each forgetting deal's kept state and the log's, both seen at ``at``."""
    rebuilt = rebuilt_from_log(session, project_ids, at)
    return [
        (bandit, seen_at(bandit, at, h), rebuilt.get(bandit.bandit_id, (0.0, 0.0)))
        for bandit, h in _forgetting_deals(session, project_ids)
    ]


def _differ(kept: float, expected: float) -> bool:
    return abs(kept - expected) > _TOLERANCE * max(1.0, abs(expected))


def discounted_mismatches(
    session: Session, project_ids: Sequence[int] | None, at: float
) -> list[tuple[Bandit, str, float, float]]:
    """``(deal, column, kept, expected)`` wherever a discounted sum disagrees with the log, both
    seen at ``at`` (relative tolerance: the sums are floating point)."""
    found = []
    for bandit, kept, expected in _compared(session, project_ids, at):
        for column, k, e in zip(_COLUMNS, kept, expected, strict=True):
            if _differ(k, e):
                found.append((bandit, column, k, e))
    return found


def repair_discounted(session: Session, project_ids: Sequence[int] | None, at: float) -> int:
    """Rebuild the discounted state of every forgetting deal that disagrees with the log, as of
    ``at``; return how many deals changed."""
    changed = 0
    for bandit, kept, expected in _compared(session, project_ids, at):
        if any(_differ(k, e) for k, e in zip(kept, expected, strict=True)):
            session.execute(
                update(Bandit)
                .where(Bandit.bandit_id == bandit.bandit_id)
                .values(
                    discounted_impressions=expected[0],
                    discounted_clicks=expected[1],
                    discounted_at=at,
                )
            )
            changed += 1
    return changed


def reset_from_log(session: Session, project_id: int, at: float) -> None:
    """Rebuild a campaign's discounted state from its log (its half-life just changed: the
    state depends on it); zeros when it stopped forgetting."""
    rebuilt = rebuilt_from_log(session, [project_id], at)
    for bandit_id in session.scalars(
        select(Bandit.bandit_id)
        .where(Bandit.project_id == project_id)
        .order_by(Bandit.bandit_id)
        .with_for_update()
    ):
        shown, clicked = rebuilt.get(bandit_id, (0.0, 0.0))
        session.execute(
            update(Bandit)
            .where(Bandit.bandit_id == bandit_id)
            .values(discounted_impressions=shown, discounted_clicks=clicked, discounted_at=at)
        )
