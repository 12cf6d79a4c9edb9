"""Revenue per impression as an exact posterior, so a campaign can rank deals by what they earn.

The deal clicked most may be bought rarely, or cheaply. An impression ends in a purchase
(clicked, then bought) with probability ``q ~ Beta(alpha0 + purchases, beta0 + impressions -
purchases)``; a purchase's value is log-normal, ``log v ~ N(mu, sigma^2)``, independent of the
click and of ``q``, under a Normal-Inverse-Gamma prior (:class:`ValuePrior`). Both conjugate,
the posterior is exact after every event and lives in a deal's counters: impressions,
purchases ``n``, ``S1 = sum(log v)`` and ``S2 = sum(log v ** 2)``::

    kappa_n = kappa0 + n,  m_n = (kappa0 * m0 + S1) / kappa_n,  a_n = a0 + n / 2,
    b_n = b0 + (S2 - S1 ** 2 / n) / 2 + kappa0 * n * (S1 / n - m0) ** 2 / (2 * kappa_n)

(``n = 0``: the prior). A deal earns ``q * exp(mu + sigma^2 / 2)`` per impression; Thompson
sampling draws ``q``, ``sigma^2`` and ``mu`` and ranks by the product. Its posterior *mean* is
infinite whatever the data (the inverse-gamma tail is polynomial, ``exp(sigma^2 / 2)``
exponential), so statistics report a median and an interval (:func:`revenue_interval`).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hotdeals.bandit.arrays import CountArray, FloatArray, IndexArray
from hotdeals.bandit.checks import check_number
from hotdeals.bandit.errors import BanditError, InvalidArmsError, InvalidParameterError
from hotdeals.bandit.ranking import check_k, top_k

__all__ = [
    "Objective",
    "RevenueThompson",
    "ValuePrior",
    "draw_value_parameters",
    "expected_revenue_per_impression",
    "revenue_interval",
    "revenue_scores",
    "sample_mean_value",
    "sample_value_parameters",
    "value_posterior",
]

# Cap on sigma^2 draws: past a log sd of 100 exp() overflows, and the deal wins the draw anyway.
_MAX_LOG_VARIANCE: Final = 1e4
_CHUNK_ELEMENTS = 2_000_000  # floats per Monte Carlo chunk, as in stats

Posterior: TypeAlias = tuple[FloatArray, FloatArray, FloatArray, FloatArray]  # m, kappa, a, b


class Objective(enum.StrEnum):
    """What a campaign maximises per impression: CLICK its clicks, PURCHASE its purchases
    (clicked, then bought), REVENUE the money taken (purchases x the mean value of one)."""

    CLICK = "click"
    PURCHASE = "purchase"
    REVENUE = "revenue"


@dataclass(frozen=True, slots=True)
class ValuePrior:
    """The prior ``sigma^2 ~ InvGamma(a0, b0)``, ``mu | sigma^2 ~ N(m0, sigma^2 / kappa0)`` of a
    log value: ``m0`` guesses the log of a deal's median value, worth ``kappa0`` purchases, and
    ``sigma^2`` is worth ``2 * a0`` purchases, with mean ``b0 / (a0 - 1)`` when ``a0 > 1``."""

    m0: float
    kappa0: float
    a0: float
    b0: float

    def __post_init__(self) -> None:
        for name, low in (("m0", None), ("kappa0", 0.0), ("a0", 0.0), ("b0", 0.0)):
            value = check_number(getattr(self, name), name, low=low, low_inclusive=False)
            object.__setattr__(self, name, value)

    @classmethod
    def around(cls, typical_value: float, spread: float = 1.0) -> ValuePrior:
        """A weak prior: ``m0 = log(typical_value)`` worth one purchase (``kappa0 = 1``);
        ``a0 = 2``, the least whole shape giving ``sigma^2`` a finite prior mean, ``b0 =
        spread ** 2`` (values within a factor ``e ** spread`` of the median). Worth four
        purchases, it soon yields to a deal's own values. A shop knows its price level, not
        which deal sells dearer, so one prior serves every deal."""
        typical = check_number(typical_value, "typical_value", low=0, low_inclusive=False)
        spread = check_number(spread, "spread", low=0, low_inclusive=False)
        return cls(m0=math.log(typical), kappa0=1.0, a0=2.0, b0=spread**2)


def value_posterior(prior: ValuePrior, n: ArrayLike, s1: ArrayLike, s2: ArrayLike) -> Posterior:
    """``(m_n, kappa_n, a_n, b_n)`` after ``n`` purchases whose log values sum to ``s1`` and their
    squares to ``s2``: elementwise, broadcasting; ``n = 0`` (with ``s1 = s2 = 0``) is the prior.
    ``n`` need not be whole (discounted counts update the same way)."""
    return _posterior(prior, *_value_statistics(n, s1, s2))


def sample_value_parameters(
    prior: ValuePrior, n: ArrayLike, s1: ArrayLike, s2: ArrayLike, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """One posterior draw of ``(mu, sigma^2)`` per element: ``sigma^2 ~ InvGamma(a_n, b_n)``
    (capped at a sd of 100), then ``mu ~ N(m_n, sigma^2 / kappa_n)``."""
    return draw_value_parameters(value_posterior(prior, n, s1, s2), rng)


def sample_mean_value(
    prior: ValuePrior, n: ArrayLike, s1: ArrayLike, s2: ArrayLike, rng: np.random.Generator
) -> FloatArray:
    """One posterior draw of a purchase's mean value ``exp(mu + sigma^2 / 2)`` per element."""
    mu, sigma2 = sample_value_parameters(prior, n, s1, s2, rng)
    with np.errstate(over="ignore"):  # inf only past the float range, which a ranking accepts
        mean: FloatArray = np.exp(mu + 0.5 * sigma2)
    return mean


def revenue_scores(
    alpha: ArrayLike,
    beta: ArrayLike,
    prior: ValuePrior,
    n: ArrayLike,
    s1: ArrayLike,
    s2: ArrayLike,
    rng: np.random.Generator,
) -> FloatArray:
    """One draw of revenue per impression: ``q ~ Beta(alpha, beta)`` (drawn first) times
    :func:`sample_mean_value`, elementwise over e.g. (rows, arms) arrays; what Thompson ranks."""
    value = value_posterior(prior, n, s1, s2)
    with np.errstate(over="ignore"):
        scores: FloatArray = np.exp(_log_scores(_rates(alpha, beta), value, rng))
    return scores


def expected_revenue_per_impression(
    purchase_rate: ArrayLike, value_log_mean: ArrayLike, value_log_sd: ArrayLike
) -> FloatArray:
    """``purchase_rate * exp(value_log_mean + value_log_sd ** 2 / 2)``: the mean revenue of an
    impression given *known* parameters (a simulation's truth). A posterior's mean is infinite
    (module docstring): :func:`revenue_interval` summarises one."""
    rate = _floats(purchase_rate, "purchase_rate", InvalidParameterError)
    log_mean = _floats(value_log_mean, "value_log_mean", InvalidParameterError)
    log_sd = _floats(value_log_sd, "value_log_sd", InvalidParameterError)
    if not bool(np.all((rate >= 0) & (rate <= 1))):
        raise InvalidParameterError(f"purchase_rate must be in [0, 1], got {rate.tolist()}")
    if not bool(np.all(log_sd >= 0)):
        raise InvalidParameterError(f"value_log_sd must be >= 0, got {log_sd.tolist()}")
    return rate * np.exp(log_mean + 0.5 * log_sd**2)


def revenue_interval(
    alpha: ArrayLike,
    beta: ArrayLike,
    prior: ValuePrior,
    n: ArrayLike,
    s1: ArrayLike,
    s2: ArrayLike,
    rng: np.random.Generator,
    draws: int = 4000,
    level: float = 0.95,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(median, low, high)`` of the posterior of revenue per impression, elementwise: order
    statistics of ``draws`` draws per element, the interval equal-tailed; not the infinite mean.
    With 4,000 draws the median's Monte Carlo error is ~1% of the interval's half-width."""
    draws = check_number(draws, "draws", low=1, integer=True)
    level = check_number(level, "level", low=0, high=1, low_inclusive=False, high_inclusive=False)
    every = np.broadcast_arrays(*_rates(alpha, beta), *value_posterior(prior, n, s1, s2))
    flat = [np.ravel(parameter) for parameter in every]
    result = np.empty((3, flat[0].size), dtype=np.float64)
    chunk = max(1, _CHUNK_ELEMENTS // draws)
    for start in range(0, flat[0].size, chunk):
        part = slice(start, start + chunk)
        alpha_, beta_, m, kappa, a, b = (parameter[part] for parameter in flat)
        logs = _log_scores((alpha_, beta_), (m, kappa, a, b), rng, size=(draws, len(m)))
        quantiles = np.quantile(
            logs, [0.5, (1 - level) / 2, (1 + level) / 2], axis=0, method="inverted_cdf"
        )
        with np.errstate(over="ignore"):
            result[:, part] = np.exp(quantiles)
    median, low, high = (row.reshape(every[0].shape) for row in result)
    return median, low, high


@dataclass(frozen=True, slots=True)
class RevenueThompson:
    """Thompson sampling on a campaign's :class:`Objective`: CLICK samples ``Beta(alpha0 +
    clicks, beta0 + impressions - clicks)``, PURCHASE that Beta on purchases, REVENUE that one
    times a mean value drawn under ``value_prior`` (:func:`revenue_scores`)."""

    objective: Objective = Objective.REVENUE
    value_prior: ValuePrior | None = None
    alpha0: float = 1.0
    beta0: float = 1.0

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "objective", Objective(self.objective))
        except ValueError:
            names = ", ".join(Objective)
            message = f"objective must be one of {names}, got {self.objective!r}"
            raise InvalidParameterError(message) from None
        if self.objective is Objective.REVENUE and not isinstance(self.value_prior, ValuePrior):
            message = f"value_prior must be a ValuePrior for revenue, got {self.value_prior!r}"
            raise InvalidParameterError(message)
        for name in ("alpha0", "beta0"):
            value = check_number(getattr(self, name), name, low=0, low_inclusive=False)
            object.__setattr__(self, name, value)

    def rank_batch(
        self,
        impressions: CountArray,
        clicks: CountArray,
        purchases: CountArray,
        log_value_sum: FloatArray,
        log_value_square_sum: FloatArray,
        k: int,
        rng: np.random.Generator,
    ) -> IndexArray:
        """The top ``min(k, arms)`` of each row of the (rows, arms) counters, best first.

        As ``Policy.rank_batch``, the values are trusted and only the shapes are checked.
        """
        k = check_k(k)
        counters = (impressions, clicks, purchases, log_value_sum, log_value_square_sum)
        if impressions.ndim != 2 or any(c.shape != impressions.shape for c in counters):
            shapes = ", ".join(str(c.shape) for c in counters)
            names = "impressions, clicks, purchases, log_value_sum and log_value_square_sum"
            raise InvalidArmsError(f"{names} must be (rows, arms) of one shape, got {shapes}")
        if self.objective is Objective.CLICK:
            return top_k(rng.beta(self.alpha0 + clicks, self.beta0 + impressions - clicks), k)
        rates = (self.alpha0 + purchases, self.beta0 + (impressions - purchases))
        if self.objective is Objective.PURCHASE:
            return top_k(rng.beta(*rates), k)
        assert self.value_prior is not None  # __post_init__ requires one for REVENUE
        value = _posterior(self.value_prior, purchases, log_value_sum, log_value_square_sum)
        return top_k(_log_scores(rates, value, rng), k)


def _posterior(prior: ValuePrior, n: NDArray[Any], s1: FloatArray, s2: FloatArray) -> Posterior:
    """The update of the module docstring, on trusted statistics."""
    kappa = prior.kappa0 + n
    seen = n > 0
    mean = s1 / np.where(seen, n, 1.0)
    # Clamped at 0: for equal values, rounding can leave S2 - S1 * mean a hair below it.
    squares = np.where(seen, np.maximum(s2 - s1 * mean, 0.0), 0.0)
    shift = prior.kappa0 * n * (mean - prior.m0) ** 2 / (2.0 * kappa)
    m = (prior.kappa0 * prior.m0 + s1) / kappa
    return m, kappa, prior.a0 + 0.5 * n, prior.b0 + 0.5 * squares + shift


def draw_value_parameters(
    value: Posterior, rng: np.random.Generator, size: tuple[int, ...] | None = None
) -> tuple[FloatArray, FloatArray]:
    """:func:`sample_value_parameters` from a posterior already computed (and checked) by
    :func:`value_posterior`: ``size`` draws of ``(mu, sigma^2)``, broadcasting."""
    m, kappa, a, b = np.broadcast_arrays(*value)
    with np.errstate(divide="ignore", over="ignore"):  # a gamma draw of 0: capped below
        sigma2: FloatArray = np.minimum(b / rng.gamma(a, size=size), _MAX_LOG_VARIANCE)
    mu: FloatArray = rng.normal(m, np.sqrt(sigma2 / kappa))
    return mu, sigma2


def _log_scores(
    rates: tuple[NDArray[Any], ...], value: Posterior, rng: np.random.Generator, size: Any = None
) -> FloatArray:
    """Log of the revenue draws: the same ranking, and no overflow."""
    rate = rng.beta(rates[0], rates[1], size=size)
    mu, sigma2 = draw_value_parameters(value, rng, size)
    with np.errstate(divide="ignore"):  # a rate of exactly 0 scores -inf: last, as it should
        scores: FloatArray = np.log(rate) + mu + 0.5 * sigma2
    return scores


def _value_statistics(n: ArrayLike, s1: ArrayLike, s2: ArrayLike) -> tuple[FloatArray, ...]:
    count, total, squares = _floats(n, "n"), _floats(s1, "s1"), _floats(s2, "s2")
    try:
        np.broadcast_shapes(count.shape, total.shape, squares.shape)
    except ValueError:
        shapes = f"{count.shape}, {total.shape} and {squares.shape}"
        raise InvalidArmsError(f"n, s1 and s2 must broadcast together, got {shapes}") from None
    if not bool(np.all(count >= 0)):
        raise InvalidArmsError(f"n must be >= 0, got {count.tolist()}")
    if bool(np.any((count == 0) & ((total != 0) | (squares != 0)))):
        raise InvalidArmsError("s1 and s2 must be 0 where n is 0: no purchase, no value")
    if not bool(np.all(count * squares >= total * total * (1.0 - 1e-9))):  # Cauchy-Schwarz
        raise InvalidArmsError("s2 must be at least s1 ** 2 / n: the sum of the squared values")
    return count, total, squares


def _floats(raw: ArrayLike, name: str, error: type[BanditError] = InvalidArmsError) -> FloatArray:
    try:
        array = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise error(f"{name} must be numbers, got {raw!r}") from exc
    if not bool(np.all(np.isfinite(array))):
        raise error(f"{name} must be finite, got {array.tolist()}")
    return array


def _rates(alpha: ArrayLike, beta: ArrayLike) -> tuple[FloatArray, FloatArray]:
    rates = _floats(alpha, "alpha"), _floats(beta, "beta")
    for name, values in zip(("alpha", "beta"), rates, strict=True):
        if not bool(np.all(values > 0)):
            raise InvalidArmsError(f"{name} must be > 0, got {values.tolist()}")
    return rates
