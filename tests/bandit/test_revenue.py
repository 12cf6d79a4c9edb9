"""The revenue posterior against closed forms: Bayes' rule, sequential updates, the draws' laws."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from hotdeals.bandit.errors import InvalidArmsError, InvalidParameterError
from hotdeals.bandit.ranking import top_k
from hotdeals.bandit.revenue import (
    Objective,
    RevenueThompson,
    ValuePrior,
    expected_revenue_per_impression,
    revenue_interval,
    revenue_scores,
    sample_mean_value,
    sample_value_parameters,
    value_posterior,
)
from hotdeals.bandit.thompson import ThompsonSampling

PRIOR = ValuePrior(m0=0.5, kappa0=2.0, a0=3.0, b0=1.5)
VALUES = [2.10, 3.49, 1.79, 4.20, 2.95, 12.5]  # euros


def statistics(values: list[float]) -> tuple[int, float, float]:
    logs = np.log(values)
    return len(values), float(logs.sum()), float((logs**2).sum())


def test_the_posterior_is_bayes_rule_on_a_few_values() -> None:
    # log prior + log likelihood - log posterior must be the same constant (the log evidence)
    # at every (mu, sigma^2): the NIG update is then the exact posterior.
    m, kappa, a, b = (float(x) for x in value_posterior(PRIOR, *statistics(VALUES)))
    logs = np.log(VALUES)

    def log_nig(mu: float, var: float, m0: float, k0: float, a0: float, b0: float) -> float:
        normal = scipy_stats.norm.logpdf(mu, m0, math.sqrt(var / k0))
        return float(normal + scipy_stats.invgamma.logpdf(var, a0, scale=b0))

    rng = np.random.default_rng(1)
    differences = []
    for mu, var in zip(rng.uniform(-1, 3, 8), rng.uniform(0.05, 4, 8), strict=True):
        likelihood = scipy_stats.norm.logpdf(logs, mu, math.sqrt(var)).sum()
        prior = log_nig(mu, var, PRIOR.m0, PRIOR.kappa0, PRIOR.a0, PRIOR.b0)
        differences.append(prior + likelihood - log_nig(mu, var, m, kappa, a, b))
    assert np.ptp(differences) < 1e-9
    # And the textbook form, from the mean and the sum of squared deviations of the values.
    n, mean = len(logs), logs.mean()
    assert kappa == pytest.approx(PRIOR.kappa0 + n)
    assert m == pytest.approx((PRIOR.kappa0 * PRIOR.m0 + n * mean) / (PRIOR.kappa0 + n))
    assert a == pytest.approx(PRIOR.a0 + n / 2)
    deviations = ((logs - mean) ** 2).sum() / 2
    assert b == pytest.approx(
        PRIOR.b0 + deviations + PRIOR.kappa0 * n * (mean - PRIOR.m0) ** 2 / (2 * (PRIOR.kappa0 + n))
    )


def test_no_purchase_leaves_the_prior_and_shapes_broadcast() -> None:
    m, kappa, a, b = value_posterior(PRIOR, [0, 0, 3], [0.0, 0.0, 3.0], [0.0, 0.0, 3.5])
    assert m.shape == kappa.shape == a.shape == b.shape == (3,)
    np.testing.assert_array_equal(
        [m[:2], kappa[:2], a[:2], b[:2]],
        [[PRIOR.m0] * 2, [PRIOR.kappa0] * 2, [PRIOR.a0] * 2, [PRIOR.b0] * 2],
    )
    one = value_posterior(PRIOR, 3, 3.0, 3.5)
    np.testing.assert_allclose([m[2], kappa[2], a[2], b[2]], [float(x) for x in one])
    # A (2, 3) n against scalar sums of zero: every element is the prior.
    grid = value_posterior(PRIOR, np.zeros((2, 3)), 0.0, 0.0)
    assert grid[3].shape == (2, 3)
    np.testing.assert_array_equal(grid[3], PRIOR.b0)


@settings(max_examples=60, deadline=None)
@given(
    logs=st.lists(st.floats(-4, 4, allow_nan=False), min_size=1, max_size=25),
    m0=st.floats(-3, 3),
    kappa0=st.floats(0.01, 50),
    a0=st.floats(0.1, 20),
    b0=st.floats(0.01, 20),
)
def test_one_value_at_a_time_equals_all_at_once(
    logs: list[float], m0: float, kappa0: float, a0: float, b0: float
) -> None:
    prior = ValuePrior(m0, kappa0, a0, b0)
    sequential = prior
    for x in logs:
        sequential = ValuePrior(*(float(p) for p in value_posterior(sequential, 1, x, x * x)))
    array = np.asarray(logs)
    batch = value_posterior(prior, len(logs), array.sum(), (array**2).sum())
    got = [sequential.m0, sequential.kappa0, sequential.a0, sequential.b0]
    np.testing.assert_allclose(got, [float(p) for p in batch], rtol=1e-8, atol=1e-9)


def test_the_draws_follow_the_posterior() -> None:
    n, s1, s2 = statistics(VALUES * 4)  # 24 values: a_n = 15, finite variance of sigma^2
    m, kappa, a, b = (float(x) for x in value_posterior(PRIOR, n, s1, s2))
    size = 200_000
    mu, sigma2 = sample_value_parameters(PRIOR, np.full(size, n), s1, s2, np.random.default_rng(7))
    assert mu.shape == sigma2.shape == (size,)
    # sigma^2 ~ InvGamma(a_n, b_n): mean b / (a - 1), sd mean / sqrt(a - 2); 4 standard errors.
    mean = b / (a - 1)
    assert abs(sigma2.mean() - mean) < 4 * mean / math.sqrt(a - 2) / math.sqrt(size)
    assert scipy_stats.kstest(sigma2[:5000], scipy_stats.invgamma(a, scale=b).cdf).pvalue > 1e-3
    # mu is Student-t around m_n: its median is m_n (the median's standard error ~ 1.25 scale).
    scale = math.sqrt(b / (a * kappa))
    assert abs(np.median(mu) - m) < 4 * 1.26 * scale / math.sqrt(size)
    # Given sigma^2, mu ~ N(m_n, sigma^2 / kappa_n): standardised, mean 0 and sd 1.
    z = (mu - m) * np.sqrt(kappa / sigma2)
    assert abs(z.mean()) < 4 / math.sqrt(size)
    assert z.std() == pytest.approx(1.0, abs=0.01)
    # The mean value drawn is exp(mu + sigma^2 / 2) of those same draws.
    drawn = sample_mean_value(PRIOR, np.full(size, n), s1, s2, np.random.default_rng(7))
    np.testing.assert_allclose(drawn, np.exp(mu + sigma2 / 2), rtol=1e-12)


def test_a_revenue_score_is_a_beta_draw_times_a_mean_value_draw() -> None:
    alpha = np.array([[3.0, 11.0, 1.0], [5.0, 2.0, 8.0]])
    beta = np.array([[400.0, 900.0, 50.0], [300.0, 700.0, 1000.0]])
    n = alpha - 1
    s1, s2 = n * 1.2, n * 1.6
    scores = revenue_scores(alpha, beta, PRIOR, n, s1, s2, np.random.default_rng(3))
    rng = np.random.default_rng(3)
    rate = rng.beta(alpha, beta)
    np.testing.assert_allclose(scores, rate * sample_mean_value(PRIOR, n, s1, s2, rng), rtol=1e-12)


def counters(seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    impressions = rng.integers(0, 3000, (5, 4))
    clicks = rng.binomial(impressions, 0.05)
    purchases = rng.binomial(clicks, 0.3)
    logs_sum = purchases * 1.1 + rng.normal(0, 0.1, (5, 4)) * (purchases > 0)
    return {
        "impressions": impressions,
        "clicks": clicks,
        "purchases": purchases,
        "log_value_sum": logs_sum,
        "log_value_square_sum": np.where(purchases > 0, logs_sum**2 / np.maximum(purchases, 1), 0)
        + 0.2 * purchases,
    }


@pytest.mark.parametrize("k", [1, 2, 4])
def test_click_and_purchase_objectives_are_thompson_on_their_own_beta(k: int) -> None:
    c = counters(k)
    pulls, clicks, purchases = c["impressions"], c["clicks"], c["purchases"]
    by_clicks = RevenueThompson(Objective.CLICK).rank_batch(**c, k=k, rng=np.random.default_rng(5))
    expected = ThompsonSampling().rank_batch(
        1.0 + clicks, 1.0 + pulls - clicks, pulls, clicks, k, np.random.default_rng(5)
    )
    np.testing.assert_array_equal(by_clicks, expected)
    policy = RevenueThompson("purchase", alpha0=2.0, beta0=50.0)  # type: ignore[arg-type]
    assert policy.objective is Objective.PURCHASE
    by_purchases = policy.rank_batch(**c, k=k, rng=np.random.default_rng(5))
    expected = ThompsonSampling().rank_batch(
        2.0 + purchases, 50.0 + pulls - purchases, pulls, purchases, k, np.random.default_rng(5)
    )
    np.testing.assert_array_equal(by_purchases, expected)


def test_the_revenue_objective_ranks_by_the_revenue_scores() -> None:
    c = counters(9)
    policy = RevenueThompson(Objective.REVENUE, PRIOR)
    for seed in range(5):
        ranking = policy.rank_batch(**c, k=3, rng=np.random.default_rng(seed))
        scores = revenue_scores(
            1.0 + c["purchases"],
            1.0 + c["impressions"] - c["purchases"],
            PRIOR,
            c["purchases"],
            c["log_value_sum"],
            c["log_value_square_sum"],
            np.random.default_rng(seed),
        )
        np.testing.assert_array_equal(ranking, top_k(scores, 3))
        assert ranking.shape == (5, 3)


def test_revenue_ranks_the_dear_deal_first_when_purchase_rates_are_equal() -> None:
    # Two deals with the same purchases, one selling at 2 euros and one at 8: only the value
    # can tell them apart, and 400 purchases of each leave no doubt.
    shape = (200, 2)
    purchases = np.full(shape, 400)
    logs = np.log([2.0, 8.0])
    ranking = RevenueThompson(Objective.REVENUE, ValuePrior.around(4.0)).rank_batch(
        np.full(shape, 20_000),
        np.full(shape, 1000),
        purchases,
        purchases * logs + 0.0,
        purchases * (logs**2 + 0.09),
        1,
        np.random.default_rng(0),
    )
    assert (ranking[:, 0] == 1).all()


def test_the_interval_holds_the_truth_and_narrows_with_data() -> None:
    rng = np.random.default_rng(11)
    rate, log_mean, log_sd = 0.01, 1.3, 0.4
    truth = float(expected_revenue_per_impression(rate, log_mean, log_sd))
    widths = []
    for impressions in (2_000, 200_000):
        purchases = rng.binomial(impressions, rate)
        logs = rng.normal(log_mean, log_sd, purchases)
        median, low, high = revenue_interval(
            1 + purchases,
            1 + impressions - purchases,
            ValuePrior.around(3.0),
            purchases,
            logs.sum(),
            (logs**2).sum(),
            rng,
        )
        assert low < median < high
        assert low < truth < high
        widths.append(float(high - low) / truth)
    assert widths[1] < widths[0] / 5
    assert widths[1] < 0.15  # 2,000 purchases: +-7%
    assert float(median) == pytest.approx(truth, rel=0.05)  # of the 2,000 purchases


def test_the_interval_is_elementwise_and_its_level_sets_the_tails() -> None:
    alpha, beta = np.array([[5.0, 50.0]]), np.array([[995.0, 9950.0]])
    n = alpha - 1
    wide = revenue_interval(alpha, beta, PRIOR, n, n, n * 1.1, np.random.default_rng(0))
    narrow = revenue_interval(
        alpha, beta, PRIOR, n, n, n * 1.1, np.random.default_rng(0), 8000, 0.5
    )
    assert all(x.shape == (1, 2) for x in (*wide, *narrow))
    assert (wide[1] < narrow[1]).all()
    assert (narrow[2] < wide[2]).all()
    # 50 purchases pin the revenue down more tightly, relatively, than 4.
    relative = (wide[2] - wide[1]) / wide[0]
    assert relative[0, 1] < relative[0, 0]


def test_expected_revenue_per_impression_is_the_log_normal_mean() -> None:
    values = np.random.default_rng(2).lognormal(1.5, 0.6, 400_000)
    got = expected_revenue_per_impression([0.02, 0.0], 1.5, 0.6)
    assert got[0] == pytest.approx(0.02 * values.mean(), rel=0.01)
    assert got[1] == 0.0


def test_the_weak_prior_is_centred_on_the_typical_value() -> None:
    prior = ValuePrior.around(4.0, spread=0.5)
    assert prior == ValuePrior(math.log(4.0), 1.0, 2.0, 0.25)
    # The prior mean of sigma^2 is finite, b0 / (a0 - 1) = spread^2.
    assert prior.b0 / (prior.a0 - 1) == pytest.approx(0.25)
    assert [str(o) for o in Objective] == ["click", "purchase", "revenue"]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: ValuePrior(math.nan, 1, 2, 1), InvalidParameterError, "m0 must be finite"),
        (lambda: ValuePrior(0, 0, 2, 1), InvalidParameterError, "kappa0 must be finite and > 0"),
        (lambda: ValuePrior(0, 1, -1, 1), InvalidParameterError, "a0 must be finite and > 0"),
        (lambda: ValuePrior(0, 1, 2, True), InvalidParameterError, "b0 must be"),
        (lambda: ValuePrior.around(0), InvalidParameterError, "typical_value must be"),
        (lambda: ValuePrior.around(3, spread=-1), InvalidParameterError, "spread must be"),
        (lambda: value_posterior(PRIOR, -1, 0, 0), InvalidArmsError, "n must be >= 0"),
        (lambda: value_posterior(PRIOR, "x", 0, 0), InvalidArmsError, "n must be numbers"),
        (lambda: value_posterior(PRIOR, 1, math.inf, 0), InvalidArmsError, "s1 must be finite"),
        (lambda: value_posterior(PRIOR, 0, 1.0, 1.0), InvalidArmsError, "s1 and s2 must be 0"),
        (lambda: value_posterior(PRIOR, 2, 2.0, 1.0), InvalidArmsError, "s2 must be at least"),
        (lambda: value_posterior(PRIOR, [1, 2], [0, 0, 0], 0), InvalidArmsError, "broadcast"),
        (lambda: revenue_scores(0, 1, PRIOR, 0, 0, 0, _rng()), InvalidArmsError, "alpha must"),
        (lambda: revenue_scores(1, [1, -1], PRIOR, 0, 0, 0, _rng()), InvalidArmsError, "beta"),
        (lambda: revenue_interval(1, 1, PRIOR, 0, 0, 0, _rng(), 0), InvalidParameterError, "draws"),
        (
            lambda: revenue_interval(1, 1, PRIOR, 0, 0, 0, _rng(), level=1.0),
            InvalidParameterError,
            "level must be in",
        ),
        (
            lambda: expected_revenue_per_impression(1.5, 0, 1),
            InvalidParameterError,
            "purchase_rate must be in",
        ),
        (
            lambda: expected_revenue_per_impression(0.1, 0, -1),
            InvalidParameterError,
            "value_log_sd must be >= 0",
        ),
        (
            lambda: expected_revenue_per_impression(0.1, math.nan, 1),
            InvalidParameterError,
            "value_log_mean must be finite",
        ),
        (lambda: RevenueThompson("views"), InvalidParameterError, "objective must be one of click"),
        (lambda: RevenueThompson(Objective.REVENUE), InvalidParameterError, "value_prior must"),
        (lambda: RevenueThompson(Objective.CLICK, alpha0=0), InvalidParameterError, "alpha0 must"),
        (lambda: RevenueThompson(Objective.CLICK, beta0=math.inf), InvalidParameterError, "beta0"),
    ],
)
def test_bad_inputs_are_refused_with_the_parameter_named(
    call: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        call()


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def test_rank_batch_checks_k_and_shapes() -> None:
    c = counters(0)
    policy = RevenueThompson(Objective.REVENUE, PRIOR)
    with pytest.raises(InvalidParameterError, match="k must be an integer >= 1"):
        policy.rank_batch(**c, k=0, rng=_rng())
    c["clicks"] = c["clicks"][:, :3]
    with pytest.raises(InvalidArmsError, match="impressions, clicks, purchases"):
        policy.rank_batch(**c, k=1, rng=_rng())
