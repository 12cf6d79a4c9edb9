"""Campaign and deal schedules: what rank does at a given moment, with no scheduler process.

Windows are half-open, ``[starts_at, ends_at)``, either end optional. Rank evaluates them
against its clock on every request from the snapshot it already holds, so a weekly deal leaves
the strip at its ``ends_at`` (within the snapshot's few milliseconds) without a job flipping a
flag; the stored ``status`` stays what the analyst set, and ``effective_status`` says the rest.
"""

from __future__ import annotations

from datetime import datetime

from hotdeals.db.models import Project
from hotdeals.errors import InvalidRequest
from hotdeals.vocabulary import EffectiveStatus, EndAction, ProjectStatus

__all__ = ["check_window", "effective_status", "in_window", "project_status"]


def in_window(starts_at: datetime | None, ends_at: datetime | None, now: datetime) -> bool:
    """Whether ``now`` is inside ``[starts_at, ends_at)``; a missing end is unbounded."""
    return (starts_at is None or starts_at <= now) and (ends_at is None or now < ends_at)


def effective_status(
    status: str,
    *,
    has_winner: bool,
    starts_at: datetime | None,
    ends_at: datetime | None,
    end_action: str,
    now: datetime,
) -> EffectiveStatus:
    """What rank does now (see :class:`~hotdeals.vocabulary.EffectiveStatus`).

    An ended campaign rolls out its winner if the analyst named one; a running one is
    ``scheduled`` before its window and, after it, rolls out its leader or stops as its
    ``end_action`` says; a paused one is paused whatever its window.
    """
    if status == ProjectStatus.ENDED:
        return EffectiveStatus.ROLLOUT if has_winner else EffectiveStatus.ENDED
    if status == ProjectStatus.PAUSED:
        return EffectiveStatus.PAUSED
    if starts_at is not None and now < starts_at:
        return EffectiveStatus.SCHEDULED
    if ends_at is not None and now >= ends_at:
        return EffectiveStatus.ROLLOUT if end_action == EndAction.ROLLOUT else EffectiveStatus.ENDED
    return EffectiveStatus.RUNNING


def project_status(project: Project, now: datetime) -> EffectiveStatus:
    """:func:`effective_status` of a ``projects`` row: the one reading every page and answer
    uses."""
    return effective_status(
        project.status,
        has_winner=project.winner_bandit_id is not None,
        starts_at=project.starts_at,
        ends_at=project.ends_at,
        end_action=project.end_action,
        now=now,
    )


def check_window(starts_at: datetime | None, ends_at: datetime | None, what: str) -> None:
    """:class:`InvalidRequest` unless the window is non-empty and its ends are timezone-aware."""
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value is not None and value.tzinfo is None:
            raise InvalidRequest(f"{what} {name} needs a timezone, e.g. 2026-12-06T23:59:00Z")
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise InvalidRequest(
            f"{what} ends_at ({ends_at.isoformat()}) must be after starts_at "
            f"({starts_at.isoformat()})"
        )
