"""Forgetting and new deals' priors in words (and their form's limits), once, so the dashboard
and ``hotdeals stats`` say the same thing about what rank samples from and where deals start.

A campaign with a half-life ranks from discounted posteriors (the "recent" figures); a deal
added to a campaign whose new-deal prior is ``empirical`` may start from a prior fitted to the
other deals instead of the campaign's own.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from hotdeals.bandit.priors import DEFAULT_MIN_DEALS
from hotdeals.vocabulary import HalfLifeHours, NewDealPrior

__all__ = [
    "FITTED",
    "FIT_NEEDS",
    "NEW_DEAL_PRIOR_CHOICES",
    "LearningSpec",
    "beta_text",
    "half_life_input",
    "half_life_text",
    "new_deal_prior_text",
    "prior_note",
    "recent_label",
]

# The form's options and what each means.
NEW_DEAL_PRIOR_CHOICES = {
    NewDealPrior.CAMPAIGN.value: "the campaign's prior",
    NewDealPrior.EMPIRICAL.value: "a prior fitted to the other deals",
}
FITTED = "fitted to the other deals"
# When the fit falls back on the campaign's prior (:func:`hotdeals.bandit.empirical_prior`).
FIT_NEEDS = (
    f"the fit needs {DEFAULT_MIN_DEALS} deals with impressions and at least one click; until "
    "then a new deal starts from the campaign's prior"
)
HOURS_PER_DAY = 24


class LearningSpec(BaseModel):
    """What the campaign page's settings form may change, with the limits of
    ``PATCH /api/projects/{id}`` (the vocabulary's)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    half_life_hours: HalfLifeHours | None
    new_deal_prior: NewDealPrior


def _number(value: float) -> str:
    """A Beta parameter or a half-life, short: ``2.1``, ``64.3``, ``0.0512``, ``1``, ``1,250``."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def half_life_text(hours: float | None) -> str:
    """``72 h (3 days)``, ``1.5 h``, or ``off`` when the campaign never forgets."""
    if hours is None:
        return "off"
    text = f"{_number(hours)} h"
    days = hours / HOURS_PER_DAY
    if hours >= 2 * HOURS_PER_DAY and days == round(days):
        text += f" ({days:.0f} days)"
    return text


def half_life_input(hours: float | None) -> str:
    """The value of a form's half-life field: the hours as typed, or empty (off)."""
    return "" if hours is None else f"{hours:g}"


def recent_label(hours: float) -> str:
    """What the discounted figures are called: ``Recent (half-life 72 h)``."""
    return f"Recent (half-life {_number(hours)} h)"


def beta_text(alpha: float, beta: float) -> str:
    """``Beta(2.1, 64.3)``."""
    return f"Beta({_number(alpha)}, {_number(beta)})"


def new_deal_prior_text(choice: str, alpha: float, beta: float) -> str:
    """Where a deal added now starts, given the campaign's choice and its prior."""
    if choice == NewDealPrior.EMPIRICAL:
        return f"a prior fitted to the other deals (else the campaign's {beta_text(alpha, beta)})"
    return f"the campaign's prior {beta_text(alpha, beta)}"


def prior_note(deal_prior: tuple[float, float], campaign_prior: tuple[float, float]) -> str | None:
    """``starts from Beta(2.1, 64.3): fitted to the other deals`` for a deal whose prior is not
    the campaign's (only an empirical-Bayes fit makes one differ); None otherwise."""
    if deal_prior == campaign_prior:
        return None
    return f"starts from {beta_text(*deal_prior)}: {FITTED}"
