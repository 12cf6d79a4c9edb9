"""When a campaign may end with a winner: the leading deal is very probably best, or nearly so.

The leader is the deal with the highest probability to be best. The rule names it once it has
``min_impressions`` of its own and either condition holds:

- **probability**: ``P(best) >= min_prob_best``, the classic test;
- **value remaining**: its expected loss (the CTR given up, in expectation, by ending the
  campaign with it) is below ``max_relative_loss`` times its posterior mean CTR. This is what
  lets a campaign of practically equal deals end: no deal ever becomes very probably best, but
  nothing worth having is left to learn (the verdict then says "no meaningful difference").

Only the leader needs the impression floor. Requiring it of every deal (the old rule) waits
for the deals Thompson sampling starves on purpose, so decisive campaigns could never end. The
floor stops the first lucky clicks of a deal from naming it while its posterior is the prior.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from hotdeals.bandit.arrays import FloatArray, IndexArray, as_count_vector
from hotdeals.bandit.checks import check_number
from hotdeals.bandit.errors import InvalidArmsError
from hotdeals.bandit.stats import ArmStatistics

__all__ = ["Verdict", "WinnerRule"]


@dataclass(frozen=True)
class Verdict:
    """The rule's reading of one campaign: the leader, each condition, and the outcome.

    Every condition is reported, not only the outcome, so the dashboard can say which one is
    missing ("P(best) 0.83 of 0.95").
    """

    leader: int | None
    """Index of the deal with the highest P(best) (the first on a tie); None with no deals."""
    prob_best: float
    """The leader's P(best); NaN with no deals."""
    relative_loss: float
    """The leader's expected loss divided by its posterior mean; NaN with no deals."""
    leader_impressions: int
    prob_best_met: bool
    loss_met: bool
    floor_met: bool
    winner: int | None
    """The leader if the floor and at least one condition are met, else None."""
    no_meaningful_difference: bool
    """The loss condition holds but not the probability one: the top deals are practically
    equal, and ending with the leader costs less than the bound."""


@dataclass(frozen=True)
class WinnerRule:
    """The thresholds of the rule; defaults measured in ``docs/simulation.md``.

    ``max_relative_loss = 0`` turns the value-remaining condition off (a loss is never < 0),
    which leaves the probability test alone.
    """

    min_prob_best: float = 0.95
    max_relative_loss: float = 0.0025
    min_impressions: int = 100

    def __post_init__(self) -> None:
        # At or below one half two arms could qualify at once, and "the winner" is ambiguous.
        check_number(self.min_prob_best, "min_prob_best", low=0.5, high=1, low_inclusive=False)
        check_number(
            self.max_relative_loss, "max_relative_loss", low=0, high=1, high_inclusive=False
        )
        check_number(self.min_impressions, "min_impressions", low=0, integer=True)

    def assess(self, stats: ArmStatistics, impressions: ArrayLike) -> Verdict:
        """The verdict for one campaign; ``impressions[i]`` are deal ``i``'s own impressions."""
        counts = as_count_vector(impressions, "impressions")
        if len(counts) != len(stats.prob_best):
            raise InvalidArmsError(
                f"impressions has {len(counts)} arms but the statistics have {len(stats.prob_best)}"
            )
        if len(counts) == 0:
            return Verdict(
                leader=None,
                prob_best=float("nan"),
                relative_loss=float("nan"),
                leader_impressions=0,
                prob_best_met=False,
                loss_met=False,
                floor_met=False,
                winner=None,
                no_meaningful_difference=False,
            )
        leader = int(np.argmax(stats.prob_best))
        prob_best = float(stats.prob_best[leader])
        relative_loss = float(_relative_loss(stats.expected_loss, stats.mean)[leader])
        prob_best_met = prob_best >= self.min_prob_best
        loss_met = relative_loss < self.max_relative_loss
        floor_met = int(counts[leader]) >= self.min_impressions
        return Verdict(
            leader=leader,
            prob_best=prob_best,
            relative_loss=relative_loss,
            leader_impressions=int(counts[leader]),
            prob_best_met=prob_best_met,
            loss_met=loss_met,
            floor_met=floor_met,
            winner=leader if floor_met and (prob_best_met or loss_met) else None,
            no_meaningful_difference=loss_met and not prob_best_met,
        )

    def pick(self, stats: ArmStatistics, impressions: ArrayLike) -> int | None:
        """Index of the winning deal, or None while the evidence is not there yet."""
        return self.assess(stats, impressions).winner

    def decide_batch(
        self,
        prob_best: ArrayLike,
        expected_loss: ArrayLike,
        mean: ArrayLike,
        pulls: ArrayLike,
    ) -> IndexArray:
        """(S, A) arrays -> (S,) index of the winner per row, -1 where the rule does not fire.

        The same rule as :meth:`assess`, row by row without a Python loop, for simulations
        that check thousands of campaigns at once.
        """
        p, loss, mu, n = (
            np.asarray(values, dtype=np.float64)
            for values in (prob_best, expected_loss, mean, pulls)
        )
        if p.ndim != 2 or not p.shape == loss.shape == mu.shape == n.shape:
            raise InvalidArmsError(
                "prob_best, expected_loss, mean and pulls must be (rows, arms) arrays of one "
                f"shape, got {p.shape}, {loss.shape}, {mu.shape} and {n.shape}"
            )
        if p.shape[1] == 0:
            return np.full(p.shape[0], -1, dtype=np.intp)
        rows = np.arange(p.shape[0])
        leader = np.argmax(p, axis=1)
        prob_best_met = p[rows, leader] >= self.min_prob_best
        loss_met = _relative_loss(loss[rows, leader], mu[rows, leader]) < self.max_relative_loss
        floor_met = n[rows, leader] >= self.min_impressions
        fires = floor_met & (prob_best_met | loss_met)
        return np.where(fires, leader, -1).astype(np.intp)


def _relative_loss(loss: FloatArray, mean: FloatArray) -> FloatArray:
    """``loss / mean``, infinite where the mean is 0 (only hand-made statistics have one)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(mean > 0, loss / np.where(mean > 0, mean, 1.0), np.inf)
    return np.asarray(ratio, dtype=np.float64)
