"""Turning per-arm scores into rankings: the machinery every policy shares.

A policy only decides how to *score* arms; choosing the best ``k`` of them is the same for all of
them and must stay O(arms) so that ranking 10,000 deals costs microseconds, hence
``argpartition`` for the top ``k`` followed by a sort of those ``k`` only. Everything works on
matrices of shape (rows, arms) so that the simulation ranks all its seeds in one call and a
single ranking is just the one-row case (:class:`hotdeals.bandit.policy.BatchPolicy`).
"""

from __future__ import annotations

import numpy as np

from hotdeals.bandit.arrays import CountArray, FloatArray, IndexArray
from hotdeals.bandit.checks import check_number
from hotdeals.bandit.errors import InvalidArmsError

__all__ = [
    "check_k",
    "check_matrices",
    "empty_ranking",
    "top_k",
    "top_k_random_ties",
]


def check_k(k: object) -> int:
    """Validate the number of slots; an empty page is a caller's bug, not a ranking."""
    return check_number(k, "k", low=1, integer=True)


def check_matrices(
    alpha: FloatArray, beta: FloatArray, pulls: CountArray, successes: CountArray
) -> tuple[int, int]:
    """Shape check only: the values were validated by ArmSet or built by the simulation.

    Checking values here would cost more than the ranking itself on the simulation's hot path.
    """
    shape = alpha.shape
    if len(shape) != 2 or beta.shape != shape or pulls.shape != shape or successes.shape != shape:
        raise InvalidArmsError(
            "alpha, beta, pulls and successes must be matrices of the same shape (rows, arms), "
            f"got {alpha.shape}, {beta.shape}, {pulls.shape} and {successes.shape}"
        )
    return shape[0], shape[1]


def empty_ranking(rows: int) -> IndexArray:
    """The ranking of zero arms: each row is empty, which is not an error."""
    return np.empty((rows, 0), dtype=np.intp)


def top_k(scores: FloatArray, k: int) -> IndexArray:
    """Column indices of the ``min(k, arms)`` highest scores of each row, highest first.

    Ties are resolved arbitrarily (but deterministically); use it for continuous random scores,
    where ties have probability zero, and :func:`top_k_random_ties` otherwise.
    """
    rows, arms = scores.shape
    k = min(k, arms)
    if k == 0:
        return empty_ranking(rows)
    if k == 1:
        best: IndexArray = np.argmax(scores, axis=1, keepdims=True)
        return best
    negated = -scores
    if k == arms:
        return np.argsort(negated, axis=1, kind="stable")
    row = np.arange(rows)[:, np.newaxis]
    candidates = np.argpartition(negated, k - 1, axis=1)[:, :k]
    order = np.argsort(negated[row, candidates], axis=1, kind="stable")
    ranking: IndexArray = candidates[row, order]
    return ranking


def top_k_random_ties(scores: FloatArray, k: int, rng: np.random.Generator) -> IndexArray:
    """Like :func:`top_k`, but arms with equal scores are ordered uniformly at random.

    Deterministic scores tie all the time (every fresh arm has an infinite UCB index and the same
    prior mean); breaking those ties by position would starve the arms listed last. The k-th best
    score splits the arms into sure winners, tied candidates and losers; the tied candidates are
    drawn by a uniform random key, which is also the secondary key of the final sort.
    """
    rows, arms = scores.shape
    k = min(k, arms)
    if k == 0:
        return empty_ranking(rows)
    noise = rng.random((rows, arms))
    if k == arms:
        candidates = np.broadcast_to(np.arange(arms, dtype=np.intp), (rows, arms))
    else:
        negated = -scores
        kth = np.partition(negated, k - 1, axis=1)[:, k - 1 : k]
        key = np.where(negated < kth, 2.0, np.where(negated == kth, noise, -1.0))
        if k == 1:
            best: IndexArray = np.argmax(key, axis=1, keepdims=True)
            return best
        candidates = np.argpartition(-key, k - 1, axis=1)[:, :k]
    row = np.arange(rows)[:, np.newaxis]
    order = np.lexsort((noise[row, candidates], -scores[row, candidates]), axis=1)
    ranking: IndexArray = candidates[row, order]
    return ranking
