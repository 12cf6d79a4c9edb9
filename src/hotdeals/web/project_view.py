"""A campaign as its dashboard pages show it: settings, schedule, effective status, its deals'
windows, and the notice that says what the strip is doing when it is not simply ranking.

The effective status is the services' (:func:`hotdeals.services.schedules.effective_status`)
at the app's clock, so a test that moves the clock sees the page change at a window's edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hotdeals.db.models import Bandit, Project
from hotdeals.services.schedules import project_status
from hotdeals.vocabulary import EffectiveStatus, EndAction, ProjectStatus
from hotdeals.web.campaign_settings import objective_text
from hotdeals.web.learning import half_life_text, new_deal_prior_text, prior_note, recent_label
from hotdeals.web.windows import deal_state, input_value, stamp, window_text

__all__ = [
    "DealControl",
    "Notice",
    "ProjectRow",
    "ProjectView",
    "deal_control",
    "project_row",
    "project_view",
    "rule_text",
    "status_notice",
]


@dataclass(frozen=True, slots=True)
class DealControl:
    """A deal in the page's controls: on or off, its window, and its state now."""

    bandit_id: int
    name: str
    active: bool
    window: str
    starts_value: str
    ends_value: str
    state: str


@dataclass(frozen=True, slots=True)
class Notice:
    tone: str
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class ProjectView:
    """What the project page shows besides the figures."""

    project_id: int
    name: str
    description: str
    status: str
    effective_status: str
    policy: str
    objective: str
    objective_text: str
    currency: str
    slots: int
    created: str
    ended: str
    starts: str
    ends: str
    window: str
    end_action: str
    rule: str
    position_correction: bool
    half_life_hours: float | None
    half_life: str
    recent_label: str | None
    new_deal_prior: str
    new_deal_prior_text: str
    prior_notes: dict[int, str]
    """Deals whose prior is not the campaign's, by ``bandit_id``: where each started."""
    winner_bandit_id: int | None
    winner_name: str | None
    deals: list[DealControl]


def rule_text(project: Project) -> str:
    """The campaign's winner rule in one line, as its settings have it."""
    either = f"P(best) \u2265 {project.min_prob_best:.2f}"
    if project.max_relative_loss > 0:
        either += f" or expected loss < {project.max_relative_loss:.2%} of the leader's CTR"
    floor = f"leader \u2265 {project.min_impressions:,} impressions"
    days = project.min_duration_days
    duration = f"; at least {days:g} day{'' if days == 1 else 's'}" if days > 0 else ""
    return f"{either}; {floor}{duration}"


def deal_control(bandit: Bandit, now: datetime) -> DealControl:
    return DealControl(
        bandit_id=bandit.bandit_id,
        name=bandit.bandit_name,
        active=bandit.active,
        window=window_text(bandit.starts_at, bandit.ends_at),
        starts_value=input_value(bandit.starts_at),
        ends_value=input_value(bandit.ends_at),
        state=deal_state(bandit.active, bandit.starts_at, bandit.ends_at, now),
    )


def project_view(project: Project, now: datetime) -> ProjectView:
    """The page's view of ``project`` (its deals loaded) at ``now``."""
    names = {b.bandit_id: b.bandit_name for b in project.bandits}
    campaign_prior = (project.prior_alpha, project.prior_beta)
    notes = {
        b.bandit_id: note
        for b in project.bandits
        if (note := prior_note((b.prior_alpha, b.prior_beta), campaign_prior)) is not None
    }
    hours = project.half_life_hours
    return ProjectView(
        project_id=project.project_id,
        name=project.project_name,
        description=project.project_description or "",
        status=project.status,
        effective_status=project_status(project, now).value,
        policy=project.policy,
        objective=project.objective,
        objective_text=objective_text(project.objective),
        currency=project.currency,
        slots=project.slots,
        created=stamp(project.created_at),
        ended=stamp(project.ended_at),
        starts=stamp(project.starts_at),
        ends=stamp(project.ends_at),
        window=window_text(project.starts_at, project.ends_at),
        end_action=project.end_action,
        rule=rule_text(project),
        position_correction=project.position_correction,
        half_life_hours=hours,
        half_life=half_life_text(hours),
        recent_label=None if hours is None else recent_label(hours),
        new_deal_prior=project.new_deal_prior,
        new_deal_prior_text=new_deal_prior_text(project.new_deal_prior, *campaign_prior),
        prior_notes=notes,
        winner_bandit_id=project.winner_bandit_id,
        winner_name=names.get(project.winner_bandit_id) if project.winner_bandit_id else None,
        deals=[deal_control(b, now) for b in project.bandits],
    )


def status_notice(view: ProjectView, showing: str) -> Notice | None:
    """What the strip does when the campaign is not simply ranking (``showing`` is the
    decision panel's words for it); None while it runs or is paused (its badge says so)."""
    status, effective = view.status, view.effective_status
    if status == ProjectStatus.ENDED and effective == EffectiveStatus.ROLLOUT:
        return Notice(
            "winner",
            f"This campaign has ended: the winner is {view.winner_name}.",
            f"Rolling out: the strip shows {showing}. Impressions are still logged, so the "
            "figures below measure the rollout too.",
        )
    if status == ProjectStatus.ENDED:
        return Notice(
            "info",
            "This campaign has ended without a winner.",
            "The strip shows nothing; the figures below stay for the record.",
        )
    if effective == EffectiveStatus.SCHEDULED:
        return Notice(
            "info",
            f"Scheduled: the campaign starts at {view.starts}.",
            "Until then the strip shows nothing.",
        )
    if effective == EffectiveStatus.ROLLOUT:
        return Notice(
            "winner",
            f"The campaign's end ({view.ends}) has passed: rolling out its leader.",
            f"The strip shows {showing}. End the campaign to name the winner for good.",
        )
    if effective == EffectiveStatus.ENDED:
        stop = EndAction.STOP.value
        return Notice(
            "warning",
            f"The campaign's end ({view.ends}) has passed: the strip shows nothing.",
            f"Its end action is {stop!r}. End the campaign to close it for good.",
        )
    return None


@dataclass(frozen=True, slots=True)
class ProjectRow:
    """A campaign in the list: status, schedule and totals."""

    project_id: int
    name: str
    status: str
    effective_status: str
    window: str
    deals: int
    active_deals: int
    impressions: int
    clicks: int
    ctr: float | None
    created: str


def project_row(project: Project, now: datetime) -> ProjectRow:
    shown = sum(b.n for b in project.bandits)
    clicked = sum(b.number_of_success for b in project.bandits)
    return ProjectRow(
        project_id=project.project_id,
        name=project.project_name,
        status=project.status,
        effective_status=project_status(project, now).value,
        window=window_text(project.starts_at, project.ends_at),
        deals=project.number_of_bandits,
        active_deals=sum(1 for b in project.bandits if b.active),
        impressions=shown,
        clicks=clicked,
        ctr=clicked / shown if shown else None,
        created=stamp(project.created_at),
    )
