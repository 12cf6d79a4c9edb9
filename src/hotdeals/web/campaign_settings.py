"""The campaign page's settings card: what rank maximises (the objective) and how it learns
(position correction, forgetting, new deals' prior), as one form, its choices and its words.

The card changes what ``PATCH /api/projects/{id}`` changes, through the same service
(:func:`hotdeals.services.projects.update_project`), so a combination the API refuses (a
half-life beside the purchase objective, revenue under UCB1: :mod:`hotdeals.services.objectives`)
is refused here in the API's own words, and nothing changes. The objectives themselves are the
vocabulary's :class:`~hotdeals.vocabulary.Objective`: only their words are kept here, for this
card and the create form alike.
"""

from __future__ import annotations

from typing import Any, Final

from hotdeals.vocabulary import DEFAULT_NEW_DEAL_PRIOR, Objective
from hotdeals.web.forms import PostedForm, form_validated, learning_values
from hotdeals.web.learning import LearningSpec, half_life_input

__all__ = [
    "OBJECTIVE_CHOICES",
    "OBJECTIVE_HELP",
    "POSITION_CORRECTION_CHOICES",
    "SettingsForm",
    "SettingsSpec",
    "objective_text",
    "settings_changes",
]

_WORDS: Final = {
    Objective.CLICK: "clicks per impression",
    Objective.PURCHASE: "purchases per impression",
    Objective.REVENUE: "revenue per impression",
}
# The forms' options, in the vocabulary's order (a new objective without words fails at import).
OBJECTIVE_CHOICES: Final = {objective.value: _WORDS[objective] for objective in Objective}
OBJECTIVE_HELP: Final = (
    "What rank maximises. Purchases and revenue count the purchases the shop reports "
    "(POST /api/purchases); they take neither position correction, a half-life nor a fitted "
    "prior yet, and revenue is ranked by Thompson sampling only."
)
POSITION_CORRECTION_CHOICES: Final = {"on": "on", "off": "off"}
# The fields a form may leave out: the card always sends them, another form need not.
_KEPT = ("objective", "position_correction")


def objective_text(objective: str) -> str:
    """``revenue per impression``: what a campaign's rank maximises, in words."""
    return OBJECTIVE_CHOICES.get(objective, objective)


class SettingsForm(PostedForm):
    """The card's fields. An empty objective or position correction (a post that does not send
    them) leaves that setting as it is; an empty half-life turns forgetting off."""

    objective: str = ""
    position_correction: str = ""
    half_life_hours: str = ""
    new_deal_prior: str = DEFAULT_NEW_DEAL_PRIOR.value

    @classmethod
    def of(
        cls, objective: str, position_correction: bool, hours: float | None, new_deal_prior: str
    ) -> SettingsForm:
        """The card as the campaign stands."""
        return cls(
            objective=objective,
            position_correction="on" if position_correction else "off",
            half_life_hours=half_life_input(hours),
            new_deal_prior=new_deal_prior,
        )

    def filled(self, current: SettingsForm) -> SettingsForm:
        """This form as typed, with what it left out taken from ``current`` (the campaign)."""
        missing = {name: getattr(current, name) for name in _KEPT if not getattr(self, name)}
        return self.model_copy(update=missing)


class SettingsSpec(LearningSpec):
    """What the card may change, with the vocabulary's limits; None leaves a setting as it is."""

    objective: Objective | None = None
    position_correction: bool | None = None


def settings_changes(form: SettingsForm) -> dict[str, Any]:
    """The campaign's new settings, as ``update_project`` takes them; :class:`FormError` naming
    each field that is off. Whether they work together is the service's check."""
    values = {
        **learning_values(form.half_life_hours, form.new_deal_prior),
        "objective": form.objective.strip() or None,
        "position_correction": form.position_correction.strip() or None,
    }
    spec = form_validated(SettingsSpec, values, [])
    changes: dict[str, Any] = {
        "half_life_hours": spec.half_life_hours,
        "new_deal_prior": spec.new_deal_prior.value,
    }
    if spec.objective is not None:
        changes["objective"] = spec.objective.value
    if spec.position_correction is not None:
        changes["position_correction"] = spec.position_correction
    return changes
