"""Informed priors: a new deal starts from what the campaign's other deals say a deal is like.

Beta(1, 1) says a 50% CTR is as plausible as a 1% one, so a new deal among 0.3-5% deals is
shown as if it might be a jackpot until thousands of impressions say otherwise. An
empirical-Bayes prior fitted to the campaign's other deals starts it at their typical rate with
their typical spread instead (docs/simulation.md, "New deals and informed priors").

The fit maximises the **marginal likelihood** of the beta-binomial model (each deal's CTR drawn
from Beta(a, b), its clicks binomial given that CTR) rather than matching moments, for two
reasons: the deals' impressions are very unequal under Thompson sampling (a loser has hundreds,
the leader hundreds of thousands), which the likelihood weighs exactly where moments need ad-hoc
weights; and the allocation depends on the clicks seen, which biases the raw rates of starved
deals downward but leaves the likelihood valid (a design that depends on observed data only is
ignorable). The method of moments, binomial noise removed, is only the starting point of a
projected Newton ascent, run on many campaigns at once (the simulator refits every seed in one
call). The strength ``a + b`` is then capped: with few deals, or deals that happen to look alike,
the fitted strength runs to infinity and would freeze a new deal at the campaign's average.
"""

from __future__ import annotations

import enum
import math
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from hotdeals.bandit.arrays import FloatArray, IndexArray
from hotdeals.bandit.checks import check_number
from hotdeals.bandit.errors import InvalidArmsError

__all__ = [
    "DEFAULT_MAX_STRENGTH",
    "DEFAULT_MIN_DEALS",
    "NewDealPrior",
    "empirical_prior",
    "empirical_prior_batch",
]


class NewDealPrior(enum.StrEnum):
    """Where a deal added to a running campaign starts: the campaign's prior, or an
    empirical-Bayes prior fitted to the campaign's other deals (:func:`empirical_prior`)."""

    CAMPAIGN = "campaign"
    EMPIRICAL = "empirical"


DEFAULT_MAX_STRENGTH: Final = 100.0
"""Cap on ``alpha + beta`` of a fitted prior: worth 100 impressions of evidence. In the new-deal
study (docs/simulation.md, "New deals and informed priors") caps of 30 to 300 are within noise
of each other; no cap is the worst on small campaigns (+42% regret on 6 deals against +15% at
100), 10 is too tight there (+27%); 100 is about the strength that the realistic 0.3-5% spread
itself implies (Beta(1.7, 83))."""

DEFAULT_MIN_DEALS: Final = 3
"""Fewest deals with impressions to fit on at all: two parameters need more than two points.
The new-deal study finds that the fitted prior only pays from about 20 deals (10 deals: +4 to
+15% regret after the start; 20: -2 to -10%; 80: -15 to -26%), so a service may ask for more."""

MIN_STRENGTH: Final = 0.5
"""Floor on the fitted strength: a spread wider than Beta(m / 2, (1 - m) / 2) is not a prior."""

_MEAN_EPS = 1e-6  # the mean stays inside (0, 1), so both parameters stay > 0
_STRENGTH_CEILING = 1e7  # where "no spread beyond the binomial noise" stops the ascent
_ITERATIONS = 60
_HALVINGS = 12
_MAX_STEP = 2.0  # in logit and log units: no jump beyond e^2 in one iteration


def empirical_prior(
    successes: ArrayLike,
    pulls: ArrayLike,
    *,
    max_strength: float = DEFAULT_MAX_STRENGTH,
    min_deals: int = DEFAULT_MIN_DEALS,
) -> tuple[float, float] | None:
    """The Beta ``(alpha, beta)`` fitted to deals of ``successes`` clicks in ``pulls`` impressions.

    Deals without impressions are ignored. None when there is too little to fit: fewer than
    ``min_deals`` deals with impressions, or no click at all (the caller keeps the campaign's
    prior). Counts may be floats (discounted counts), ``successes <= pulls``. The mean is the
    fit's, kept in (0, 1); the strength ``alpha + beta`` is the fit's, in [``MIN_STRENGTH``,
    ``max_strength``] (capped after fitting, so the cap never moves the mean).
    """
    clicks = _as_counts(successes, "successes", ndim=1)
    shown = _as_counts(pulls, "pulls", ndim=1)
    alpha, beta = empirical_prior_batch(
        clicks[np.newaxis, :],
        shown[np.newaxis, :],
        max_strength=max_strength,
        min_deals=min_deals,
    )
    if math.isnan(alpha[0]):
        return None
    return float(alpha[0]), float(beta[0])


def empirical_prior_batch(
    successes: ArrayLike,
    pulls: ArrayLike,
    *,
    max_strength: float = DEFAULT_MAX_STRENGTH,
    min_deals: int = DEFAULT_MIN_DEALS,
) -> tuple[FloatArray, FloatArray]:
    """:func:`empirical_prior` for each row of (rows, deals) arrays: ``alpha`` and ``beta``.

    Both are (rows,) arrays, NaN in the rows with too little to fit. All rows are fitted
    together: one Newton iteration costs a few SciPy calls whatever the number of rows.
    """
    max_strength = check_number(max_strength, "max_strength", low=1)
    min_deals = check_number(min_deals, "min_deals", low=2, integer=True)
    clicks = _as_counts(successes, "successes", ndim=2)
    shown = _as_counts(pulls, "pulls", ndim=2)
    if clicks.shape != shown.shape:
        raise InvalidArmsError(
            f"successes and pulls must have the same shape, got {clicks.shape} and {shown.shape}"
        )
    if bool((clicks > shown).any()):
        raise InvalidArmsError("successes must not exceed pulls")
    seen = shown > 0
    fits = (seen.sum(axis=1) >= min_deals) & (clicks.sum(axis=1) > 0)
    alpha = np.full(len(shown), np.nan)
    beta = np.full(len(shown), np.nan)
    if fits.any():
        bounds = (math.log(MIN_STRENGTH), math.log(_STRENGTH_CEILING))
        model = _BetaBinomial(clicks[fits], shown[fits])
        mean, strength = model.fit(*_moments(clicks[fits], shown[fits], seen[fits]), bounds)
        # The cap applies after the fit: fitting under it would move the mean (at a strength of
        # 30, twenty deals at exactly 5% have a likelihood peak at 6.4%), and the mean is the
        # best-determined half of the fit.
        strength = np.minimum(strength, max_strength)
        alpha[fits], beta[fits] = mean * strength, (1.0 - mean) * strength
    return alpha, beta


class _BetaBinomial:
    """The marginal log-likelihood of Beta(a, b) on rows of (clicks, impressions) counts.

    Deals without impressions need no mask: their term ``betaln(0 + a, 0 + b)`` cancels one of
    the ``deals x betaln(a, b)`` subtracted. Parameters are ``u = logit(mean)`` and
    ``w = log(strength)``, nearly orthogonal for this model, so Newton steps rarely zigzag.
    """

    def __init__(self, clicks: FloatArray, shown: FloatArray) -> None:
        self.clicks, self.fails, self.shown = clicks, shown - clicks, shown
        self.deals = clicks.shape[1]
        edge = math.log(_MEAN_EPS / (1.0 - _MEAN_EPS))
        self.u_bounds = (edge, -edge)

    def value(self, u: FloatArray, w: FloatArray, rows: IndexArray) -> FloatArray:
        """The log-likelihood (up to a constant) of the given rows at ``(u, w)``."""
        a, b = _ab(u, w)
        x, f = self.clicks[rows], self.fails[rows]
        terms = special.betaln(x + a[:, None], f + b[:, None]).sum(axis=1)
        total: FloatArray = terms - self.deals * special.betaln(a, b)
        return total

    def fit(
        self, mean: FloatArray, strength: FloatArray, w_bounds: tuple[float, float]
    ) -> tuple[FloatArray, FloatArray]:
        """Projected Newton ascent with halving line search; (mean, strength) at the maximum."""
        low, high = w_bounds
        u = np.clip(special.logit(mean), *self.u_bounds)
        w = np.clip(np.log(strength), low, high)
        current = self.value(u, w, np.arange(len(u)))
        active = np.ones(len(u), dtype=bool)
        for _ in range(_ITERATIONS):
            rows = np.flatnonzero(active)
            d_u, d_w = self._direction(u[rows], w[rows], rows, low, high)
            accepted = np.zeros(len(d_u), dtype=bool)
            new_u, new_w = u[active].copy(), w[active].copy()
            new_value = current[active].copy()
            step = 1.0
            for _ in range(_HALVINGS):
                trial_u = np.clip(u[active] + step * d_u, *self.u_bounds)
                trial_w = np.clip(w[active] + step * d_w, low, high)
                trial = self.value(trial_u, trial_w, rows)
                better = ~accepted & (trial >= current[active])
                new_u[better], new_w[better], new_value[better] = (
                    trial_u[better],
                    trial_w[better],
                    trial[better],
                )
                accepted |= better
                if accepted.all():
                    break
                step /= 2.0
            moved = np.abs(new_u - u[active]) + np.abs(new_w - w[active])
            u[active], w[active], current[active] = new_u, new_w, new_value
            still = accepted & (moved > 1e-9)
            active[rows[~still]] = False
            if not active.any():
                break
        return special.expit(u), np.exp(w)

    def _direction(
        self, u: FloatArray, w: FloatArray, rows: IndexArray, low: float, high: float
    ) -> tuple[FloatArray, FloatArray]:
        """The Newton direction, or per coordinate where the Hessian is not negative definite."""
        mean, strength = special.expit(u), np.exp(w)
        a, b = mean * strength, (1.0 - mean) * strength
        da, db, daa, dbb, dab = self._derivatives(a, b, rows)
        q = a * b / strength
        g_u, g_w = q * (da - db), a * da + b * db
        h_uu = q * (1.0 - 2.0 * mean) * (da - db) + q * q * (daa - 2.0 * dab + dbb)
        h_ww = a * da + b * db + a * a * daa + 2.0 * a * b * dab + b * b * dbb
        h_uw = q * (da - db) + q * (a * daa + (b - a) * dab - b * dbb)
        det = h_uu * h_ww - h_uw * h_uw
        newton = (h_uu < 0) & (det > 0)
        safe_det = np.where(newton, det, 1.0)
        d_u = np.where(newton, -(h_ww * g_u - h_uw * g_w) / safe_det, _diagonal(g_u, h_uu))
        d_w = np.where(newton, -(h_uu * g_w - h_uw * g_u) / safe_det, _diagonal(g_w, h_ww))
        pinned = ((w >= high) & (g_w > 0)) | ((w <= low) & (g_w < 0))
        d_u = np.where(pinned, _diagonal(g_u, h_uu), d_u)
        d_w = np.where(pinned, 0.0, d_w)
        return np.clip(d_u, -_MAX_STEP, _MAX_STEP), np.clip(d_w, -_MAX_STEP, _MAX_STEP)

    def _derivatives(
        self, a: FloatArray, b: FloatArray, rows: IndexArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        """First and second derivatives of the log-likelihood in ``a`` and ``b``."""
        x, f, n = self.clicks[rows], self.fails[rows], self.shown[rows]
        ac, bc, abc = a[:, None], b[:, None], (a + b)[:, None]
        total = special.digamma(n + abc).sum(axis=1)
        total2 = special.polygamma(1, n + abc).sum(axis=1)
        d = self.deals
        psi_ab, tri_ab = special.digamma(a + b), special.polygamma(1, a + b)
        da = special.digamma(x + ac).sum(axis=1) - total - d * (special.digamma(a) - psi_ab)
        db = special.digamma(f + bc).sum(axis=1) - total - d * (special.digamma(b) - psi_ab)
        daa = special.polygamma(1, x + ac).sum(axis=1) - total2
        daa -= d * (special.polygamma(1, a) - tri_ab)
        dbb = special.polygamma(1, f + bc).sum(axis=1) - total2
        dbb -= d * (special.polygamma(1, b) - tri_ab)
        dab = d * tri_ab - total2
        return da, db, daa, dbb, dab


def _ab(u: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray]:
    mean, strength = special.expit(u), np.exp(w)
    return mean * strength, (1.0 - mean) * strength


def _diagonal(gradient: FloatArray, curvature: FloatArray) -> FloatArray:
    """A one-coordinate Newton step, or a bounded gradient step where the curvature is not < 0."""
    safe = np.where(curvature < 0, curvature, -1.0)
    return np.where(curvature < 0, -gradient / safe, np.clip(gradient, -1.0, 1.0))


def _moments(
    clicks: FloatArray, shown: FloatArray, seen: NDArray[np.bool_]
) -> tuple[FloatArray, FloatArray]:
    """Per row, the method-of-moments (mean, strength) with the binomial noise removed."""
    count = seen.sum(axis=1)
    rates = np.where(seen, clicks / np.where(seen, shown, 1.0), 0.0)
    mean = np.clip(rates.sum(axis=1) / count, _MEAN_EPS, 1.0 - _MEAN_EPS)
    noise = np.where(seen, rates * (1.0 - rates) / np.where(seen, shown, 1.0), 0.0).sum(axis=1)
    squares = np.where(seen, (rates - mean[:, None]) ** 2, 0.0).sum(axis=1)
    spread = squares / np.maximum(count - 1, 1) - noise / count
    with np.errstate(divide="ignore"):
        strength = np.where(spread > 0, mean * (1.0 - mean) / spread - 1.0, np.inf)
    return mean, np.maximum(strength, MIN_STRENGTH)


def _as_counts(values: ArrayLike, name: str, *, ndim: int) -> FloatArray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidArmsError(f"{name} must be numbers, got {values!r}") from exc
    if array.ndim != ndim:
        raise InvalidArmsError(f"{name} must have {ndim} dimension(s), got shape {array.shape}")
    if not bool(np.all(np.isfinite(array) & (array >= 0))):
        raise InvalidArmsError(f"{name} must be finite and >= 0, got {array.tolist()}")
    return array
