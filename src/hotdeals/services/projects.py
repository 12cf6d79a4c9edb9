"""Campaigns and their deals: create, change, pause, resume, end with a winner.

``projects.number_of_bandits`` is maintained here by atomic SQL on every insert, so it always
equals the count of the project's bandits (``hotdeals db-check`` verifies it).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from hotdeals.bandit.priors import empirical_prior
from hotdeals.db.discounted import reset_from_log
from hotdeals.db.models import Bandit, Project
from hotdeals.db.types import utcnow
from hotdeals.errors import (
    BanditNotFound,
    DuplicateBanditName,
    InvalidRequest,
    InvalidStateChange,
    ProjectNotFound,
)
from hotdeals.services.bandit_errors import checked_policy
from hotdeals.services.objectives import Settings, check_settings, default_position_correction
from hotdeals.services.pagination import Page
from hotdeals.services.schedules import check_window
from hotdeals.services.specs import DealSpec, ProjectSpec
from hotdeals.vocabulary import NewDealPrior, ProjectStatus

# Which status may follow which: an ended campaign is final, so its history stays interpretable.
TRANSITIONS: dict[str, set[str]] = {
    ProjectStatus.RUNNING: {ProjectStatus.RUNNING, ProjectStatus.PAUSED, ProjectStatus.ENDED},
    ProjectStatus.PAUSED: {ProjectStatus.PAUSED, ProjectStatus.RUNNING, ProjectStatus.ENDED},
    ProjectStatus.ENDED: {ProjectStatus.ENDED},
}


def validate_policy(policy: str, epsilon: float) -> None:
    """Refuse an unknown policy or a bad epsilon with the bandit package's own message.

    Epsilon is checked whatever the policy: it is stored, and a later switch to
    epsilon_greedy must not find a value the database's CHECK refuses.
    """
    if not 0.0 <= epsilon <= 1.0:
        raise InvalidRequest(f"epsilon must be in [0, 1], got {epsilon!r}")
    checked_policy(policy, epsilon)


_OBJECTIVE_SETTINGS = frozenset(Settings.__dataclass_fields__)


def create_project(session: Session, spec: ProjectSpec) -> Project:
    """A running campaign with its deals, in one transaction."""
    validate_policy(spec.policy, spec.epsilon)
    corrected = (
        default_position_correction(spec.objective)
        if spec.position_correction is None
        else spec.position_correction
    )
    check_settings(
        Settings(spec.objective, spec.policy, corrected, spec.half_life_hours, spec.new_deal_prior)
    )
    check_window(spec.starts_at, spec.ends_at, "the campaign's")
    names = [d.bandit_name.strip() for d in spec.bandits]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DuplicateBanditName(f"deal names must be unique within a project: {duplicates}")
    project = Project(
        project_name=spec.project_name.strip(),
        project_description=spec.project_description,
        policy=spec.policy,
        epsilon=spec.epsilon,
        slots=spec.slots,
        prior_alpha=spec.prior_alpha,
        prior_beta=spec.prior_beta,
        min_prob_best=spec.min_prob_best,
        min_impressions=spec.min_impressions,
        max_relative_loss=spec.max_relative_loss,
        min_duration_days=spec.min_duration_days,
        starts_at=spec.starts_at,
        ends_at=spec.ends_at,
        end_action=spec.end_action.value,
        position_correction=corrected,
        objective=spec.objective.value,
        half_life_hours=spec.half_life_hours,
        new_deal_prior=spec.new_deal_prior.value,
        currency=spec.currency,
        number_of_bandits=0,
        status="running",
    )
    session.add(project)
    session.flush()
    for deal in spec.bandits:
        add_bandit(session, project.project_id, deal)
    session.refresh(project)
    return project


def require_project(session: Session, project_id: int) -> Project:
    """The project alone (its deals not loaded), or :class:`ProjectNotFound`."""
    project = session.get(Project, project_id)
    if project is None:
        raise ProjectNotFound(f"project {project_id} does not exist")
    return project


def current_project(session: Session, configured: int | None) -> Project | None:
    """The campaign a shop's page shows when it names none: the configured one
    (``HOTDEALS_STOREFRONT_PROJECT``, whatever its status, so the page can say it is paused),
    else the newest one that is running or rolling out its winner; None when there is
    neither."""
    if configured is not None:
        return session.get(Project, configured)
    return session.scalar(
        select(Project)
        .where(
            or_(
                Project.status == ProjectStatus.RUNNING.value,
                Project.winner_bandit_id.is_not(None),  # ended with a winner: a rollout
            )
        )
        .order_by(Project.project_id.desc())
        .limit(1)
    )


def get_project(session: Session, project_id: int) -> Project:
    """The project with its deals loaded, or :class:`ProjectNotFound`."""
    project = session.scalars(
        select(Project)
        .where(Project.project_id == project_id)
        .options(selectinload(Project.bandits))
    ).first()
    if project is None:
        raise ProjectNotFound(f"project {project_id} does not exist")
    return project


def list_projects(
    session: Session, *, limit: int, offset: int, status: str | None = None
) -> Page[Project]:
    query = select(Project)
    if status is not None:
        query = query.where(Project.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(
        query.order_by(Project.project_id.desc())
        .limit(limit)
        .offset(offset)
        .options(selectinload(Project.bandits))
    ).all()
    return Page(list(items), total, limit, offset)


def update_project(
    session: Session, project_id: int, changes: dict[str, Any], now: datetime | None = None
) -> Project:
    """Apply a partial update as of ``now`` (default: the clock); status changes follow
    :data:`TRANSITIONS`.

    Naming a winner is part of ending a campaign: ``winner_bandit_id`` is accepted only with
    ``status = ended`` or on a campaign that has already ended.
    """
    project = get_project(session, project_id)
    changes = dict(changes)
    status = changes.pop("status", None)
    winner = changes.pop("winner_bandit_id", None)
    if "policy" in changes or "epsilon" in changes:
        validate_policy(
            changes.get("policy", project.policy), changes.get("epsilon", project.epsilon)
        )
    if status is not None and status not in TRANSITIONS[project.status]:
        raise InvalidStateChange(
            f"project {project_id} is {project.status}; it cannot become {status}"
        )
    if winner is not None:
        if (status or project.status) != "ended":
            raise InvalidStateChange(
                "a winner is named when the campaign ends: send status 'ended' with it"
            )
        if not any(b.bandit_id == winner for b in project.bandits):
            raise InvalidRequest(f"bandit {winner} is not a deal of project {project_id}")
        project.winner_bandit_id = winner
    check_window(
        changes.get("starts_at", project.starts_at),
        changes.get("ends_at", project.ends_at),
        "the campaign's",
    )
    if changes.keys() & _OBJECTIVE_SETTINGS:
        check_settings(
            Settings(
                **{name: changes.get(name, getattr(project, name)) for name in _OBJECTIVE_SETTINGS}
            )
        )
    forgets_anew = (
        "half_life_hours" in changes and changes["half_life_hours"] != project.half_life_hours
    )
    for name, value in changes.items():
        setattr(project, name, value)
    if forgets_anew:  # the discounted state depends on the half-life: rebuilt from the log
        session.flush()
        reset_from_log(session, project_id, (now or utcnow()).timestamp())
    if status is not None and status != project.status:
        project.status = status
        if status == "ended":
            project.ended_at = now or utcnow()
    session.flush()
    return project


def add_bandit(session: Session, project_id: int, deal: DealSpec) -> Bandit:
    """A new deal starts at its own prior, so the policy explores it at once: the campaign's,
    or with ``new_deal_prior = empirical`` one fitted to the campaign's other deals
    (:func:`hotdeals.bandit.empirical_prior`: their CTRs say where a new deal is likely to
    land, instead of Beta(1, 1)'s 50%); the campaign's while there is too little to fit."""
    project = session.get(Project, project_id)
    if project is None:
        raise ProjectNotFound(f"project {project_id} does not exist")
    if project.status == "ended":
        raise InvalidStateChange(f"project {project_id} has ended; deals cannot be added")
    check_window(deal.starts_at, deal.ends_at, f"deal {deal.bandit_name!r}:")
    bandit = Bandit(
        project_id=project_id,
        bandit_name=deal.bandit_name.strip(),
        description=deal.description,
        price=deal.price,
        emoji=deal.emoji,
        image_url=deal.image_url,
        active=deal.active,
        starts_at=deal.starts_at,
        ends_at=deal.ends_at,
    )
    bandit.prior_alpha, bandit.prior_beta = new_deal_prior(session, project)
    bandit.alpha, bandit.beta = bandit.prior_alpha, bandit.prior_beta
    try:
        with session.begin_nested():
            session.add(bandit)
            session.flush()
    except IntegrityError:
        raise DuplicateBanditName(
            f"project {project_id} already has a deal named {bandit.bandit_name!r}"
        ) from None
    session.execute(
        update(Project)
        .where(Project.project_id == project_id)
        .values(number_of_bandits=Project.number_of_bandits + 1)
    )
    return bandit


def new_deal_prior(session: Session, project: Project) -> tuple[float, float]:
    """The prior a deal added now starts from (see :func:`add_bandit`)."""
    if project.new_deal_prior != NewDealPrior.EMPIRICAL:
        return project.prior_alpha, project.prior_beta
    others = session.execute(
        select(Bandit.number_of_success, Bandit.n).where(Bandit.project_id == project.project_id)
    ).all()
    fitted = empirical_prior([s for s, _ in others], [n for _, n in others])
    return fitted if fitted is not None else (project.prior_alpha, project.prior_beta)


def get_bandit(session: Session, bandit_id: int) -> Bandit:
    bandit = session.get(Bandit, bandit_id)
    if bandit is None:
        raise BanditNotFound(f"bandit {bandit_id} does not exist")
    return bandit


def list_bandits(
    session: Session, project_id: int, bandit_ids: Collection[int] | None = None
) -> list[Bandit]:
    """The campaign's deals by id, or only those of ``bandit_ids`` (a chart's few of many)."""
    if session.get(Project, project_id) is None:
        raise ProjectNotFound(f"project {project_id} does not exist")
    query = select(Bandit).where(Bandit.project_id == project_id)
    if bandit_ids is not None:
        query = query.where(Bandit.bandit_id.in_(sorted(bandit_ids)))
    return list(session.scalars(query.order_by(Bandit.bandit_id)))


def update_bandit(session: Session, bandit_id: int, changes: dict[str, Any]) -> Bandit:
    """Rename, redescribe or (de)activate a deal; a deactivated deal keeps its history."""
    bandit = get_bandit(session, bandit_id)
    project_id = bandit.project_id
    if "bandit_name" in changes:
        changes = {**changes, "bandit_name": str(changes["bandit_name"]).strip()}
    check_window(
        changes.get("starts_at", bandit.starts_at),
        changes.get("ends_at", bandit.ends_at),
        f"deal {bandit.bandit_id}:",
    )
    try:
        # Changes go inside the savepoint: begin_nested() flushes whatever is pending first.
        with session.begin_nested():
            for name, value in changes.items():
                setattr(bandit, name, value)
            session.flush()
    except IntegrityError:
        raise DuplicateBanditName(
            f"project {project_id} already has a deal named {changes['bandit_name']!r}"
        ) from None
    return bandit


__all__ = [
    "add_bandit",
    "create_project",
    "get_bandit",
    "get_project",
    "list_bandits",
    "list_projects",
    "require_project",
    "update_bandit",
    "update_project",
]
