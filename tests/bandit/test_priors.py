"""The empirical-Bayes prior: it recovers a known Beta, respects its cap, and declines to guess."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from hotdeals.bandit import (
    DEFAULT_MAX_STRENGTH,
    InvalidArmsError,
    InvalidParameterError,
    empirical_prior,
    empirical_prior_batch,
)


def simulated_deals(
    a: float, b: float, deals: int, seed: int, low: int = 300, high: int = 5000
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    pulls = rng.integers(low, high, deals)
    return rng.binomial(pulls, rng.beta(a, b, deals)), pulls


@pytest.mark.parametrize(("a", "b"), [(2.0, 98.0), (1.5, 60.0), (4.0, 4.0)])
def test_the_fit_recovers_a_known_beta_from_many_deals(a: float, b: float) -> None:
    clicks, pulls = simulated_deals(a, b, 3000, seed=int(a * 10 + b))
    fitted = empirical_prior(clicks, pulls, max_strength=1e6)
    assert fitted is not None
    alpha, beta = fitted
    assert alpha / (alpha + beta) == pytest.approx(a / (a + b), rel=0.05)
    assert alpha + beta == pytest.approx(a + b, rel=0.2)


def test_the_fit_is_the_maximum_of_the_marginal_likelihood() -> None:
    clicks, pulls = simulated_deals(2.0, 98.0, 12, seed=5)

    def log_likelihood(alpha: float, beta: float) -> float:
        terms = special.betaln(clicks + alpha, pulls - clicks + beta) - special.betaln(alpha, beta)
        return float(terms.sum())

    fitted = empirical_prior(clicks, pulls, max_strength=1e6)
    assert fitted is not None
    best = log_likelihood(*fitted)
    for factor_a, factor_b in [(1.05, 1.0), (0.95, 1.0), (1.0, 1.05), (1.0, 0.95), (1.05, 1.05)]:
        assert best >= log_likelihood(fitted[0] * factor_a, fitted[1] * factor_b) - 1e-9


@pytest.mark.parametrize("cap", [30.0, DEFAULT_MAX_STRENGTH, 1000.0])
def test_deals_that_look_alike_hit_the_cap_and_keep_their_mean(cap: float) -> None:
    # Twenty deals at exactly 5%: no spread beyond the binomial noise, so the fit runs to the cap.
    pulls = np.full(20, 10_000)
    clicks = np.full(20, 500)
    fitted = empirical_prior(clicks, pulls, max_strength=cap)
    assert fitted is not None
    assert sum(fitted) == pytest.approx(cap)
    assert fitted[0] / sum(fitted) == pytest.approx(0.05, rel=1e-3)


def test_the_default_cap_holds_on_a_campaign_that_asks_for_more() -> None:
    clicks, pulls = simulated_deals(20.0, 980.0, 200, seed=3)
    fitted = empirical_prior(clicks, pulls)
    assert fitted is not None
    assert sum(fitted) <= DEFAULT_MAX_STRENGTH + 1e-9


@pytest.mark.parametrize(
    ("clicks", "pulls"),
    [
        ([1, 2], [100, 100]),  # two deals: fewer than min_deals
        ([0, 0, 0, 0], [100, 200, 300, 400]),  # no click at all
        ([1, 2, 0], [100, 100, 0]),  # the third deal has no impression: two deals count
        ([], []),
    ],
)
def test_too_little_to_fit_is_none(clicks: list[int], pulls: list[int]) -> None:
    assert empirical_prior(clicks, pulls) is None


def test_min_deals_is_a_setting() -> None:
    assert empirical_prior([1, 2], [100, 100], min_deals=2) is not None


def test_every_deal_clicked_keeps_the_mean_inside_zero_one() -> None:
    fitted = empirical_prior([50, 60, 70], [50, 60, 70])
    assert fitted is not None
    alpha, beta = fitted
    assert alpha > 0
    assert beta > 0
    assert alpha / (alpha + beta) < 1.0


def test_the_batch_fits_each_row_as_the_single_fit_does() -> None:
    rows = [simulated_deals(2.0, 98.0, 8, seed=s) for s in range(4)]
    clicks = np.array([r[0] for r in rows] + [[0] * 8])
    pulls = np.array([r[1] for r in rows] + [[100] * 8])
    alpha, beta = empirical_prior_batch(clicks, pulls)
    for row in range(4):
        single = empirical_prior(clicks[row], pulls[row])
        assert single is not None
        assert (alpha[row], beta[row]) == pytest.approx(single, rel=1e-6)
    assert np.isnan(alpha[4])
    assert np.isnan(beta[4])


@pytest.mark.parametrize(
    ("clicks", "pulls", "message"),
    [
        ([5, 1, 1], [4, 10, 10], "must not exceed pulls"),
        ([-1, 1, 1], [4, 10, 10], "successes must be finite and >= 0"),
        ([1, 1, 1], [4, 10], "same shape"),
        ([[1, 1, 1]], [[4, 10, 10]], "must have 1 dimension"),
        (["x", 1, 1], [4, 10, 10], "successes must be numbers"),
    ],
)
def test_impossible_counts_are_refused(clicks: object, pulls: object, message: str) -> None:
    with pytest.raises(InvalidArmsError, match=message):
        empirical_prior(clicks, pulls)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "message"),
    [({"max_strength": 0.5}, "max_strength must be"), ({"min_deals": 1}, "min_deals must be")],
)
def test_bad_settings_are_refused(options: dict[str, float], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        empirical_prior([1, 2, 3], [100, 100, 100], **options)  # type: ignore[arg-type]
