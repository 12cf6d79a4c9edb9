"""What makes a simulated campaign a real deal week: churn, drift, informed priors, forgetting.

:func:`hotdeals.bandit.simulate` runs arms whose rates never change. Real hot deals expire and are
replaced, change appeal mid-week, and a new one deserves a better start than Beta(1, 1); the
service answers with discounted posteriors (:mod:`hotdeals.bandit.forgetting`) and informed
priors (:mod:`hotdeals.bandit.priors`). :class:`DealWeeks` describes that world and those options
as one frozen, validated value, which :func:`hotdeals.bandit.simulate_weeks` runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotdeals.bandit.checks import check_number
from hotdeals.bandit.errors import InvalidParameterError
from hotdeals.bandit.priors import DEFAULT_MAX_STRENGTH, DEFAULT_MIN_DEALS, NewDealPrior

__all__ = ["DealWeeks", "Drift"]


@dataclass(frozen=True, slots=True)
class Drift:
    """From step ``step`` on (that many steps done), arm ``arm`` is clicked at rate ``rate``."""

    step: int
    arm: int
    rate: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "step", check_number(self.step, "drift step", low=0, integer=True))
        object.__setattr__(self, "arm", check_number(self.arm, "drift arm", low=0, integer=True))
        object.__setattr__(self, "rate", check_number(self.rate, "drift rate", low=0, high=1))


@dataclass(frozen=True, slots=True)
class DealWeeks:
    """The non-stationary world of a simulation, and the service's answers to it.

    The default value is a stationary campaign with the service's plain options: simulating it
    gives the regret :func:`hotdeals.bandit.simulate` gives, not the same random numbers.
    """

    retire_prob: float = 0.0
    """Per step and seed, the probability that one arm, chosen uniformly, retires and a new one
    with rate ~ ``Beta(*new_arm_prior)`` takes its column, counters reset."""
    new_arm_prior: tuple[float, float] = (1.0, 1.0)
    """The Beta distribution of the true rates of new arms."""
    drifts: tuple[Drift, ...] = ()
    """Changes of true rates at given steps, the same in every seed."""
    prior: NewDealPrior = NewDealPrior.CAMPAIGN
    """The prior a new arm starts from: ``campaign_prior``, or the empirical-Bayes fit to the
    seed's other arms (refitted every ``prior_refit_every`` steps, as a server caches it; the
    campaign's prior until the first fit succeeds)."""
    half_life: float | None = None
    """In steps: the policy sees discounted posteriors (:mod:`hotdeals.bandit.forgetting`);
    None sees the all-time ones."""
    campaign_prior: tuple[float, float] = (1.0, 1.0)
    """The prior of the arms present at the start, and of new ones under ``campaign``."""
    max_strength: float = DEFAULT_MAX_STRENGTH
    """Cap on the strength of an empirical prior (:func:`hotdeals.bandit.empirical_prior`)."""
    min_deals: int = DEFAULT_MIN_DEALS
    """Fewest arms with impressions that an empirical prior is fitted on."""
    prior_refit_every: int = 1000
    """Steps between two refits of the empirical prior."""

    def __post_init__(self) -> None:
        retire = check_number(self.retire_prob, "retire_prob", low=0, high=1)
        object.__setattr__(self, "retire_prob", retire)
        for name in ("new_arm_prior", "campaign_prior"):
            object.__setattr__(self, name, _beta_pair(getattr(self, name), name))
        if isinstance(self.drifts, str | bytes) or not all(
            isinstance(drift, Drift) for drift in self.drifts
        ):
            raise InvalidParameterError(f"drifts must be Drift values, got {self.drifts!r}")
        object.__setattr__(self, "drifts", tuple(self.drifts))
        try:
            object.__setattr__(self, "prior", NewDealPrior(self.prior))
        except ValueError:
            valid = ", ".join(source.value for source in NewDealPrior)
            raise InvalidParameterError(
                f"prior must be one of {valid}, got {self.prior!r}"
            ) from None
        if self.half_life is not None:
            half_life = check_number(self.half_life, "half_life", low=0, low_inclusive=False)
            object.__setattr__(self, "half_life", half_life)
        strength = check_number(self.max_strength, "max_strength", low=1)
        object.__setattr__(self, "max_strength", strength)
        object.__setattr__(
            self, "min_deals", check_number(self.min_deals, "min_deals", low=2, integer=True)
        )
        every = check_number(self.prior_refit_every, "prior_refit_every", low=1, integer=True)
        object.__setattr__(self, "prior_refit_every", every)

    @property
    def arms_fixed(self) -> bool:
        """True when the true rates never change (no churn, no drift): "the best arm" is one."""
        return self.retire_prob == 0.0 and not self.drifts

    def check_against(self, arms: int, horizon: int) -> None:
        """Refuse drifts that name an arm that does not exist or a step beyond the horizon."""
        for drift in self.drifts:
            if drift.arm >= arms:
                raise InvalidParameterError(
                    f"drift arm must be < the {arms} arms (0-based), got {drift.arm}"
                )
            if drift.step >= horizon:
                raise InvalidParameterError(
                    f"drift step must be < the horizon {horizon}, got {drift.step}"
                )


def _beta_pair(value: object, name: str) -> tuple[float, float]:
    if isinstance(value, str | bytes) or not isinstance(value, tuple | list) or len(value) != 2:
        raise InvalidParameterError(f"{name} must be two numbers (alpha, beta), got {value!r}")
    first = check_number(value[0], f"{name} alpha", low=0, low_inclusive=False)
    second = check_number(value[1], f"{name} beta", low=0, low_inclusive=False)
    return first, second
