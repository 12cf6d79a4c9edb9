"""Offline evaluation of a policy on a log collected by a uniform-random policy.

Li, Chu, Langford and Wang, "Unbiased offline evaluation of contextual-bandit-based news
article recommendation algorithms" (WSDM 2011): walk the log in time order and keep an event
only when the evaluated policy, given what it has learnt from the events kept so far, would have
shown the logged item in the logged slot. Because the logging policy chose uniformly at random,
the kept events are distributed as if the evaluated policy had been live, so their CTR is an
unbiased estimate of its CTR, from a log we already have instead of a new live test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from hotdeals.bandit.arrays import as_count_vector
from hotdeals.bandit.checks import check_number
from hotdeals.bandit.errors import InvalidArmsError, NoReplayMatchError
from hotdeals.bandit.policy import Policy

__all__ = ["ReplayResult", "ReplayWalk", "replay"]

# Rankings drawn per policy call: enough for a match to be likely among them (about one event
# in `arms` matches), few enough that the draws wasted after the first match stay cheap.
_MIN_CHUNK = 8
_MAX_CHUNK_ELEMENTS = 1_000_000


@dataclass(frozen=True)
class ReplayResult:
    """Outcome of a replay: the evaluated policy's estimated CTR against the log's own."""

    kept: int
    """Events on which the policy agreed with the log (about total / arms)."""
    total: int
    """Events in the log."""
    clicks: int
    """Clicks among the kept events."""
    ctr: float
    """Estimated CTR of the policy: clicks / kept."""
    ci_low: float
    """Lower end of the bootstrap percentile interval of the CTR."""
    ci_high: float
    """Upper end of the bootstrap percentile interval of the CTR."""
    log_ctr: float
    """CTR of the whole log, i.e. of the uniform-random policy that collected it."""


def replay(
    policy: Policy,
    item_ids: ArrayLike,
    clicks: ArrayLike,
    rng: np.random.Generator,
    positions: ArrayLike | None = None,
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    prior_alpha: float = 1.0,
    prior_beta: float = 1.0,
) -> ReplayResult:
    """Replay ``policy`` over a uniform-random log given in time order.

    The arms are the distinct ``item_ids`` (any labels). With ``positions`` (slots 1..K) the
    policy ranks ``K = max(positions)`` arms per event and the event is kept when its p-th ranked
    arm is the logged item; without them only the top arm counts. The policy learns (its counts
    are updated) from kept events only, exactly as if it had been live. A log too large to hold
    is replayed in pieces by :class:`ReplayWalk`, with the same figures.
    """
    items = np.asarray(item_ids)
    if items.ndim != 1 or len(items) == 0:
        raise InvalidArmsError("item_ids must be a non-empty one-dimensional array")
    raw_clicks = np.asarray(clicks)
    clicked = as_count_vector(
        raw_clicks.astype(np.int64) if raw_clicks.dtype == np.bool_ else raw_clicks, "clicks"
    )
    if len(clicked) != len(items):
        raise InvalidArmsError(f"clicks has {len(clicked)} events but item_ids has {len(items)}")
    if positions is None:
        slot_of_event = np.zeros(len(items), dtype=np.int64)
    else:
        slot_of_event = as_count_vector(positions, "positions") - 1
        if len(slot_of_event) != len(items):
            raise InvalidArmsError(
                f"positions has {len(slot_of_event)} events but item_ids has {len(items)}"
            )
    check_number(n_boot, "n_boot", low=1, integer=True)  # before the walk, not after
    check_number(level, "level", low=0, high=1, low_inclusive=False, high_inclusive=False)
    labels, arm_of_event = np.unique(items, return_inverse=True)
    walk = ReplayWalk(
        policy,
        len(labels),
        max(int(slot_of_event.max()) + 1, 1),
        rng,
        prior_alpha=prior_alpha,
        prior_beta=prior_beta,
    )
    walk.feed(arm_of_event, slot_of_event, clicked)
    return walk.result(n_boot=n_boot, level=level)


class ReplayWalk:
    """The replay's walk over a log that arrives in pieces, in time order, in bounded memory.

    The arms (``arms`` of them, numbered from 0) and the slots ranked per event (``slots``) must
    be known before the first event, as the policy ranks them all from the start. Between two
    kept events the policy's posterior does not change, so the rankings of the next events are
    drawn in one ``rank_batch`` call and the walk jumps to the first match; the draws made for
    events after that match are discarded, which leaves every event's ranking an independent
    draw from the current posterior. The Python loop therefore runs once per kept event, not
    once per logged event. A piece's events wait until a whole window of them is there, so the
    windows, and with the same ``rng`` the figures, are those of one pass over the whole log.
    """

    def __init__(
        self,
        policy: Policy,
        arms: int,
        slots: int,
        rng: np.random.Generator,
        *,
        prior_alpha: float = 1.0,
        prior_beta: float = 1.0,
    ) -> None:
        self._arms = check_number(arms, "arms", low=1, integer=True)
        self._slots = check_number(slots, "slots", low=1, integer=True)
        prior_alpha = check_number(prior_alpha, "prior_alpha", low=0, low_inclusive=False)
        prior_beta = check_number(prior_beta, "prior_beta", low=0, low_inclusive=False)
        self._policy, self._rng = policy, rng
        self._pulls = np.zeros((1, arms), dtype=np.int64)
        self._successes = np.zeros((1, arms), dtype=np.int64)
        self._alpha = np.full((1, arms), prior_alpha)
        self._beta = np.full((1, arms), prior_beta)
        self._window = int(
            np.clip(2 * arms, _MIN_CHUNK, max(_MIN_CHUNK, _MAX_CHUNK_ELEMENTS // arms))
        )
        # The posterior as a full window's rows see it: views of the arrays updated in place, so
        # they are made once (a broadcast costs about as much as a third of a draw).
        self._full = self._posterior(self._window)
        empty = np.zeros(0, dtype=np.int64)
        self._pending = (empty, empty, empty)  # arms, slots (from 0) and clicks not yet walked
        self.total = 0
        self.clicks = 0
        self.kept = 0
        self.kept_clicks = 0

    def feed(self, arm_of_event: ArrayLike, slot_of_event: ArrayLike, clicks: ArrayLike) -> None:
        """Walk the next events: arm indices, slots counted from 0, clicks 0 or 1."""
        arm = as_count_vector(arm_of_event, "arms")
        slot = as_count_vector(slot_of_event, "positions")
        clicked = as_count_vector(clicks, "clicks")
        if not len(arm) == len(slot) == len(clicked):
            raise InvalidArmsError("every event needs its arm, its slot and its click")
        if not bool(np.all((clicked == 0) | (clicked == 1))):
            raise InvalidArmsError("clicks must be 0 or 1")
        if bool((slot < 0).any()):
            raise InvalidArmsError("positions are slots numbered from 1")
        if bool(((arm < 0) | (arm >= self._arms)).any()):
            raise InvalidArmsError(f"arms are numbered from 0 to {self._arms - 1}")
        self.total += len(arm)
        self.clicks += int(clicked.sum())
        pending = self._pending
        self._pending = (
            np.concatenate((pending[0], arm)),
            np.concatenate((pending[1], slot)),
            np.concatenate((pending[2], clicked)),
        )
        self._walk(final=False)

    def result(self, *, n_boot: int = 2000, level: float = 0.95) -> ReplayResult:
        """Walk the last events and estimate: the kept events' CTR with its bootstrap interval."""
        n_boot = check_number(n_boot, "n_boot", low=1, integer=True)
        level = check_number(
            level, "level", low=0, high=1, low_inclusive=False, high_inclusive=False
        )
        self._walk(final=True)
        kept = self.kept
        if kept == 0:
            raise NoReplayMatchError(
                f"no events matched the policy's choices among {self.total} logged events; the "
                "log is too short, or was not collected by a uniform-random policy over these "
                "items"
            )
        ctr = self.kept_clicks / kept
        # Resampling `kept` 0/1 outcomes with replacement and averaging is exactly a
        # Binomial(kept, ctr) / kept draw, so the bootstrap costs O(n_boot) instead of
        # O(n_boot * kept) memory and time.
        boot = self._rng.binomial(kept, ctr, size=n_boot) / kept
        tail = (1.0 - level) / 2.0
        low, high = np.quantile(boot, [tail, 1.0 - tail])
        return ReplayResult(
            kept=kept,
            total=self.total,
            clicks=self.kept_clicks,
            ctr=ctr,
            ci_low=float(low),
            ci_high=float(high),
            log_ctr=self.clicks / self.total,
        )

    def _posterior(self, rows: int) -> tuple[Any, Any, Any, Any]:
        """alpha, beta, pulls and successes repeated over ``rows`` events (read-only views)."""
        shape = (rows, self._arms)
        return (
            np.broadcast_to(self._alpha, shape),
            np.broadcast_to(self._beta, shape),
            np.broadcast_to(self._pulls, shape),
            np.broadcast_to(self._successes, shape),
        )

    def _walk(self, *, final: bool) -> None:
        """Walk the pending events while a whole window of them is there (all, when final)."""
        arm_of_event, slot_of_event, clicked = self._pending
        total, window = len(arm_of_event), self._window
        start = 0
        while start < total and (final or total - start >= window):
            stop = min(start + window, total)
            rows = stop - start
            alpha, beta, pulls, successes = self._full if rows == window else self._posterior(rows)
            rankings = self._policy.rank_batch(
                alpha, beta, pulls, successes, self._slots, self._rng
            )
            slots = slot_of_event[start:stop]
            in_ranking = slots < rankings.shape[1]
            chosen = rankings[np.arange(rows), np.minimum(slots, rankings.shape[1] - 1)]
            matches = in_ranking & (chosen == arm_of_event[start:stop])
            if not matches.any():
                start = stop
                continue
            event = start + int(np.argmax(matches))
            arm, click = int(arm_of_event[event]), int(clicked[event])
            self.kept += 1
            self.kept_clicks += click
            self._pulls[0, arm] += 1
            self._successes[0, arm] += click
            self._alpha[0, arm] += click
            self._beta[0, arm] += 1 - click
            start = event + 1
        self._pending = (arm_of_event[start:], slot_of_event[start:], clicked[start:])
