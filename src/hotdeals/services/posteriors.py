"""The posteriors a campaign ranks from: all-time, position-corrected, discounted, or both.

One place decides, so that the rank path's snapshot and the dashboard's "recent" view read the
same figures. Every deal starts from its own prior (the campaign's, or an empirical-Bayes one
when it was added to a running campaign that asks for it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from hotdeals.bandit import effective_impressions
from hotdeals.bandit.arrays import FloatArray
from hotdeals.bandit.forgetting import discounted_posteriors
from hotdeals.db.discounted import DiscountedState, seen_at
from hotdeals.services.slot_effects import SlotEffects


class DealState(DiscountedState, Protocol):
    """What the posteriors read of a deal: a ``bandits`` row or a query row with these."""

    @property
    def alpha(self) -> float: ...
    @property
    def beta(self) -> float: ...
    @property
    def prior_alpha(self) -> float: ...
    @property
    def prior_beta(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Posteriors:
    """Beta parameters of D deals, in the order they were given."""

    alpha: FloatArray
    beta: FloatArray


def all_time(deals: Sequence[DealState], effects: SlotEffects | None) -> Posteriors:
    """The exact counters' posteriors, position-corrected when ``effects`` has a fit."""
    if effects is None or effects.examination is None:
        return Posteriors(
            np.array([d.alpha for d in deals], dtype=np.float64),
            np.array([d.beta for d in deals], dtype=np.float64),
        )
    return slotted(deals, effects)


def slotted(deals: Sequence[DealState], effects: SlotEffects) -> Posteriors:
    """The posteriors of the slotted impressions, each counted as its slot's examination
    probability (plainly without a fit), from each deal's own prior."""
    # corrected() adds one prior to every deal; each deal has its own.
    alpha, beta = effects.corrected(1.0, 1.0)
    prior_alpha, prior_beta = _priors(deals)
    return Posteriors(alpha - 1.0 + prior_alpha, beta - 1.0 + prior_beta)


def recent(
    deals: Sequence[DealState], half_life_hours: float, at: float, effects: SlotEffects | None
) -> Posteriors:
    """The discounted posteriors at ``at`` (Unix seconds): each event weighs 0.5 per half-life
    of age, and the deal shrinks toward its own prior as its evidence ages.

    With a position fit, the discounted impressions are scaled by the deal's all-time ratio of
    effective to plain impressions: the slots a deal was shown in are assumed to mix the same
    way recently as over its history (the slot counters are not discounted).
    """
    seen = np.array([seen_at(d, at, half_life_hours) for d in deals], dtype=np.float64)
    impressions, clicks = seen[:, 0], seen[:, 1]
    if effects is not None and effects.examination is not None:
        plain = effects.impressions.sum(axis=1).astype(np.float64)
        looked_at = effective_impressions(effects.impressions, effects.examination)
        impressions = impressions * np.divide(
            looked_at, plain, out=np.ones_like(plain), where=plain > 0
        )
    prior_alpha, prior_beta = _priors(deals)
    alpha, beta = discounted_posteriors(prior_alpha, prior_beta, impressions, clicks)
    return Posteriors(alpha, beta)


class PurchaseState(DealState, Protocol):
    """A deal's impressions and purchases beside its priors."""

    @property
    def n(self) -> int: ...
    @property
    def purchases(self) -> int: ...


def of_purchases(deals: Sequence[PurchaseState]) -> Posteriors:
    """Purchases per impression, from each deal's own prior: what the purchase and revenue
    objectives rank from (all-time, uncorrected: :mod:`hotdeals.services.objectives`)."""
    prior_alpha, prior_beta = _priors(deals)
    shown = np.array([d.n for d in deals], dtype=np.float64)
    bought = np.array([d.purchases for d in deals], dtype=np.float64)
    return Posteriors(prior_alpha + bought, prior_beta + np.maximum(shown - bought, 0.0))


def _priors(deals: Sequence[DealState]) -> tuple[FloatArray, FloatArray]:
    return (
        np.array([d.prior_alpha for d in deals], dtype=np.float64),
        np.array([d.prior_beta for d in deals], dtype=np.float64),
    )
