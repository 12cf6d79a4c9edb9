"""P(best) and expected loss for many deals: the screening's bound holds, the screened result
agrees with the full Monte Carlo, the draws stay within their budget, and the sampler is exact."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import stats as scipy_stats

from hotdeals.bandit import ArmStatistics, arm_statistics, prob_best_two_exact
from hotdeals.bandit import stats as bandit_stats
from hotdeals.bandit.arrays import FloatArray
from hotdeals.bandit.stats import draw_statistics, plausible_top

QUANTILE, TAIL = bandit_stats._SCREEN_QUANTILE, bandit_stats._SCREEN_TAIL


def _campaign(deals: int, winners: int, seed: int = 5) -> tuple[FloatArray, FloatArray]:
    """``deals`` posteriors after 2,000-6,000 impressions at 3%, the first ``winners`` at 8%."""
    rng = np.random.default_rng(seed)
    pulls = rng.integers(2_000, 6_000, size=deals)
    rates = np.where(np.arange(deals) < winners, 0.08, 0.03)
    clicks = rng.binomial(pulls, rates)
    return (1.0 + clicks).astype(np.float64), (1.0 + pulls - clicks).astype(np.float64)


def _full_draws(alpha: FloatArray, beta: FloatArray, draws: int, seed: int) -> Iterator[FloatArray]:
    """Every arm drawn, no screening, in chunks of 1,000 draws: the reference Monte Carlo."""
    rng = np.random.default_rng(seed)
    for _ in range(draws // 1000):
        yield rng.beta(alpha, beta, size=(1000, len(alpha)))


def _full_statistics(
    alpha: FloatArray, beta: FloatArray, draws: int, keep: NDArray[np.bool_]
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(prob_best, expected_loss, the draws' max over all minus max over ``keep``) unscreened."""
    wins, loss, gap = np.zeros(len(alpha)), np.zeros(len(alpha)), []
    for theta in _full_draws(alpha, beta, draws, seed=77):
        chunk_best, chunk_loss = draw_statistics(theta[:, np.newaxis, :])
        wins += chunk_best[0] * len(theta)
        loss += chunk_loss[0] * len(theta)
        gap.append(theta.max(axis=1) - theta[:, keep].max(axis=1))
    return wins / draws, loss / draws, np.concatenate(gap)


def test_two_arms_match_the_exact_formula_within_the_monte_carlo_error() -> None:
    for a1, b1, a2, b2 in [(30, 970, 36, 964), (5, 95, 4, 96), (1, 1, 2, 1)]:
        got = arm_statistics([a1, a2], [b1, b2], np.random.default_rng(8), draws=20_000)
        exact = prob_best_two_exact(a1, b1, a2, b2)
        assert got.draws == 20_000
        assert got.screening_bound == 0.0  # neither arm is hopeless: nothing screened
        assert abs(got.prob_best[1] - exact) <= 4 * got.prob_best_se[1] + 1e-12


def test_a_hopeless_second_arm_is_screened_out_within_its_exact_bound() -> None:
    # 20% against 2% after 1,000 impressions each: P(second best) ~ 1e-60 < the bound.
    got = arm_statistics([201, 21], [801, 981], np.random.default_rng(0))
    assert got.plausible == 1
    np.testing.assert_array_equal(got.prob_best, [1.0, 0.0])
    assert 0 < got.screening_bound <= QUANTILE + TAIL
    assert prob_best_two_exact(201, 801, 21, 981) <= got.screening_bound
    # Its loss is E[theta_1] - E[theta_2] exactly, E[max] being the only arm drawn's mean.
    assert got.expected_loss[1] == pytest.approx(201 / 1002 - 21 / 1002, abs=5 * 0.0126 / 141)
    assert got.expected_loss[0] == 0.0


@pytest.fixture(scope="module")
def clear_winners() -> tuple[FloatArray, FloatArray, ArmStatistics]:
    alpha, beta = _campaign(1_000, winners=3)
    return alpha, beta, arm_statistics(alpha, beta, np.random.default_rng(3))


def test_many_deals_with_clear_winners_draw_only_the_plausible_ones(
    clear_winners: tuple[FloatArray, FloatArray, ArmStatistics],
) -> None:
    _, _, got = clear_winners
    assert 3 <= got.plausible < 100
    assert got.draws == 20_000  # few plausible deals: the whole requested Monte Carlo
    assert (got.prob_best > 0).sum() <= got.plausible
    assert got.prob_best.sum() == pytest.approx(1.0, abs=1e-12)
    assert 0 < got.screening_bound <= QUANTILE + TAIL
    assert 0 <= got.loss_bound < 1e-5  # clicks per impression: a 3% CTR is 0.03


def test_screened_statistics_agree_with_the_unscreened_monte_carlo(
    clear_winners: tuple[FloatArray, FloatArray, ArmStatistics],
) -> None:
    alpha, beta, got = clear_winners
    keep = plausible_top(alpha, beta).keep
    draws = 20_000
    full_best, full_loss, gap = _full_statistics(alpha, beta, draws, keep)
    # P(best): each arm within the bound plus 4 Monte Carlo standard errors of the two runs.
    se = np.sqrt(got.prob_best_se**2 + full_best * (1 - full_best) / draws)
    assert (np.abs(got.prob_best - full_best) <= got.screening_bound + 4 * se + 1e-12).all()
    # The screened-out deals won no draw of the full Monte Carlo either: their total true
    # P(best) is below the bound, and 20,000 draws would see ~20 of a 0.001 share.
    assert full_best[~keep].sum() <= got.screening_bound + 4 * np.sqrt(1e-3 / draws)
    # Every screened-out deal is beaten pairwise by the leader but with probability below it.
    leader = int(np.argmax(got.prob_best))
    pairwise = [
        prob_best_two_exact(alpha[leader], beta[leader], a, b)
        for a, b in zip(alpha[~keep], beta[~keep], strict=True)
    ]
    assert max(pairwise) <= got.screening_bound
    # Expected loss: the screened estimate of E[max] misses E[max over all] by gap's mean,
    # which loss_bound bounds; plus the Monte Carlo error of E[max] in both runs.
    assert 0 <= gap.mean() <= got.loss_bound
    tolerance = got.loss_bound + 5 * np.sqrt(2 * 0.006**2 / draws)  # sd(max) < 0.006 here
    assert (np.abs(got.expected_loss - full_loss) <= tolerance).all()


def test_the_screened_out_deals_lose_e_max_minus_their_mean(
    clear_winners: tuple[FloatArray, FloatArray, ArmStatistics],
) -> None:
    alpha, beta, got = clear_winners
    out = ~plausible_top(alpha, beta).keep
    e_max = got.expected_loss[out] + got.mean[out]
    np.testing.assert_allclose(e_max, e_max[0], rtol=1e-12)
    # E[max] is at least the best mean, and the best deals are at ~8%.
    assert got.mean.max() <= e_max[0] < 0.1


@pytest.mark.parametrize(("deals", "draws"), [(1_000, 400), (10_000, 100)])
def test_fresh_deals_are_all_plausible_and_the_draws_bounded(deals: int, draws: int) -> None:
    got = arm_statistics(np.ones(deals), np.ones(deals), np.random.default_rng(4))
    assert got.plausible == deals
    assert got.screening_bound == 0.0
    assert got.draws == draws  # 400,000 draws x deals, but at least 100 draws
    assert got.prob_best.sum() == pytest.approx(1.0, abs=1e-12)
    # Wins are multinomial(draws, 1/deals each): their chi-square is ~deals +- sqrt(2 deals).
    wins = got.prob_best * draws
    chi2 = ((wins - draws / deals) ** 2 / (draws / deals)).sum()
    assert abs(chi2 - deals) < 5 * np.sqrt(2 * deals)
    # Uniform posteriors: E[max of n] = n / (n + 1), so each deal loses n / (n + 1) - 1/2; one
    # deal's estimate has sd < 0.3 / sqrt(draws).
    expected = deals / (deals + 1) - 0.5
    assert np.abs(got.expected_loss - expected).max() < 5 * 0.3 / np.sqrt(draws) + 0.01


def test_close_deals_keep_every_deal_and_sum_to_one() -> None:
    alpha, beta = _campaign(1_000, winners=0)
    got = arm_statistics(alpha, beta, np.random.default_rng(6))
    assert got.plausible > 100
    assert got.draws == 400_000 // got.plausible
    assert got.prob_best.sum() == pytest.approx(1.0, abs=1e-12)
    # The ten best posterior means hold half of P(best), fifty times their even share.
    top = np.argsort(got.mean)[-10:]
    assert got.prob_best[top].sum() > 0.25


def test_the_same_generator_state_gives_the_same_statistics() -> None:
    alpha, beta = _campaign(300, winners=2)
    first = arm_statistics(alpha, beta, np.random.default_rng(12))
    second = arm_statistics(alpha, beta, np.random.default_rng(12))
    np.testing.assert_array_equal(first.prob_best, second.prob_best)
    np.testing.assert_array_equal(first.expected_loss, second.expected_loss)
    assert (first.draws, first.plausible) == (second.draws, second.plausible)


def test_the_screening_bound_holds_for_the_top_k() -> None:
    # Three slots: P(a screened-out deal among the top three) <= 3 quantiles + tail, checked
    # against 20,000 unscreened draws.
    alpha, beta = _campaign(1_000, winners=5, seed=9)
    screen = plausible_top(alpha, beta, slots=3)
    assert 0 < screen.prob_bound <= 3 * QUANTILE + TAIL
    in_top = 0
    for theta in _full_draws(alpha, beta, 20_000, seed=1):
        cut = np.partition(theta, -3, axis=1)[:, -3:-2]
        in_top += int(((theta >= cut) & ~screen.keep).any(axis=1).sum())
    assert in_top / 20_000 <= screen.prob_bound + 4 * np.sqrt(screen.prob_bound / 20_000)


def test_no_deal_is_screened_out_when_every_one_can_win() -> None:
    screen = plausible_top([10, 11, 12], [90, 89, 88])
    assert screen.keep.all()
    assert (screen.prob_bound, screen.loss_bound) == (0.0, 0.0)
    assert plausible_top([3], [5], slots=2).keep.all()


@pytest.mark.parametrize(
    ("alpha", "beta"), [(1.0, 1.0), (0.5, 0.5), (1.0, 0.5), (0.3, 0.2), (2.0, 0.7), (40, 960)]
)
def test_the_sampler_draws_the_beta_distribution(alpha: float, beta: float) -> None:
    # Fresh-like columns come first, as arm_statistics orders them; each column's law checked.
    a = np.array([1.0, alpha, 0.4])
    b = np.array([1.0, beta, 0.3])
    order = np.argsort(~bandit_stats._fresh(a, b), kind="stable")
    theta = bandit_stats._beta_draws(np.random.default_rng(1), a[order], b[order], 100_000)
    for column, arm in enumerate(order):
        law = scipy_stats.beta(a[arm], b[arm])
        assert scipy_stats.kstest(theta[:, column], law.cdf).pvalue > 1e-4
