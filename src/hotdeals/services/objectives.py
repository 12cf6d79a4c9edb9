"""What a campaign maximises per impression, and which of its other settings work with it.

Clicks, purchases or revenue (:class:`hotdeals.bandit.Objective`). Every counter is kept
whatever the objective, so a campaign may change it while running and rank by the new one from
all its evidence at once. Three settings read clicks alone today and are refused beside another
objective, with a 400 that says so: position correction (its slot counters count clicks),
forgetting (its discounted state has no purchases) and the empirical prior of new deals (fitted
to clicks). Revenue is ranked by Thompson sampling only: the other policies know Beta
posteriors, not a revenue posterior.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotdeals.errors import InvalidRequest
from hotdeals.vocabulary import (
    DEFAULT_POSITION_CORRECTION,
    NewDealPrior,
    Objective,
    PolicyName,
)

__all__ = ["Settings", "check_settings", "default_position_correction"]


@dataclass(frozen=True, slots=True)
class Settings:
    """The settings of a campaign that depend on its objective, as they would be stored."""

    objective: str
    policy: str
    position_correction: bool
    half_life_hours: float | None
    new_deal_prior: str


def default_position_correction(objective: str) -> bool:
    """On for clicks (the vocabulary's default), off for the objectives it cannot correct."""
    return DEFAULT_POSITION_CORRECTION if objective == Objective.CLICK else False


def check_settings(settings: Settings) -> None:
    """:class:`InvalidRequest` naming each setting that does not work with the objective."""
    if settings.objective == Objective.CLICK:
        return
    problems = []
    if settings.position_correction:
        problems.append("position_correction must be false (its slot counters count clicks)")
    if settings.half_life_hours is not None:
        problems.append("half_life_hours must be null (forgetting discounts clicks only)")
    if settings.new_deal_prior == NewDealPrior.EMPIRICAL:
        problems.append("new_deal_prior must be campaign (the empirical prior fits clicks)")
    if settings.objective == Objective.REVENUE and settings.policy != PolicyName.THOMPSON:
        problems.append("policy must be thompson (the only policy with a revenue posterior)")
    if problems:
        raise InvalidRequest(f"objective {settings.objective}: " + "; ".join(problems) + " for now")
