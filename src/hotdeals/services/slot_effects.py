"""Slot effects of a campaign from its per deal and slot counters: the slots' examination
probabilities and each deal's position-corrected posterior.

Read from ``bandit_positions`` (deals x slots rows, never the log). The model and its fit are
the bandit package's (:mod:`hotdeals.bandit.positions`, documented in ``docs/positions.md``);
this module only turns rows into its matrices. One slot, or no slotted impression yet, means
nothing to correct: ``examination`` is then None and the plain posteriors stand.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from hotdeals.bandit.arrays import CountArray, FloatArray
from hotdeals.bandit.positions import corrected_posteriors, fit_examination
from hotdeals.db.slot_counters import SlotCount, read_slot_counts


@dataclass(frozen=True)
class SlotEffects:
    """Index ``d`` describes ``arm_ids[d]`` of the call, slot ``p`` is position ``p + 1``."""

    impressions: CountArray
    """(D, P) impressions per deal and slot."""
    clicks: CountArray
    """(D, P) first clicks per deal and slot."""
    examination: FloatArray | None
    """(P,) fitted examination probabilities (slot 1 = 1), or None with nothing to correct."""

    @property
    def slot_impressions(self) -> CountArray:
        totals: CountArray = self.impressions.sum(axis=0)
        return totals

    @property
    def total_clicks(self) -> int:
        return int(self.clicks.sum())

    def corrected(self, prior_alpha: float, prior_beta: float) -> tuple[FloatArray, FloatArray]:
        """Each deal's Beta posterior counting an impression as its slot's examination
        probability (the plain posterior of the slotted impressions without a fit)."""
        slots = self.impressions.shape[1]
        e = self.examination if self.examination is not None else np.ones(slots)
        return corrected_posteriors(self.impressions, self.clicks, e, prior_alpha, prior_beta)


class ExaminationFits:
    """Fitted examination probabilities by campaign, each reused for ``ttl_s`` seconds.

    For the rank path, which reloads its snapshot every few milliseconds: the slots' examination
    changes slowly (it is a property of the page, fitted on the whole history), so the EM fit
    (5-10 ms for a campaign) runs once per ``ttl_s`` per process while every snapshot still
    reads the current counters.
    """

    def __init__(self, ttl_s: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self._fits: dict[int, tuple[float, FloatArray | None]] = {}

    def get(self, project_id: int, fit: Callable[[], FloatArray | None]) -> FloatArray | None:
        entry = self._fits.get(project_id)
        if entry is not None and self.clock() - entry[0] <= self.ttl_s:
            return entry[1]
        fitted = fit()
        self._fits[project_id] = (self.clock(), fitted)
        return fitted


class WarmFits:
    """Each campaign's last fit for its figures, with the counters it was fitted to.

    For ``/stats`` and the dashboard, which must show the current fit: the same counters get
    the same fit back, and counters that have grown since start EM from the last fit, which
    then converges in a few iterations instead of 20-50 (~15 ms at 1,000 deals x 3 slots). A
    warm fit differs from a cold one by about EM's tolerance (1e-9), far below what is shown.
    """

    def __init__(self) -> None:
        self._last: dict[int, tuple[tuple[Any, ...], FloatArray | None]] = {}

    def fit(
        self, project_id: int, arm_ids: Sequence[int], impressions: CountArray, clicks: CountArray
    ) -> FloatArray | None:
        key = (tuple(arm_ids), impressions.tobytes(), clicks.tobytes())
        last = self._last.get(project_id)
        if last is not None and last[0] == key:
            return last[1]
        start = last[1] if last is not None else None
        fitted = _fit(impressions, clicks, start)
        self._last[project_id] = (key, fitted)
        return fitted


def slot_effects(
    session: Session,
    project_id: int,
    arm_ids: Sequence[int],
    slots: int,
    *,
    fits: ExaminationFits | None = None,
    warm: WarmFits | None = None,
) -> SlotEffects:
    """The campaign's slot effects over ``arm_ids`` (some of its deals), at least ``slots``
    slots wide; with ``fits`` a fit of the last ``ttl_s`` is reused, with ``warm`` the fit of
    the current counters starts from the last one."""
    counts = read_slot_counts(session, project_id)
    if warm is not None:
        plain = effects_of(counts, arm_ids, slots, fit=False)
        fitted = warm.fit(project_id, arm_ids, plain.impressions, plain.clicks)
        return SlotEffects(plain.impressions, plain.clicks, fitted)
    if fits is None:
        return effects_of(counts, arm_ids, slots)
    examination = fits.get(project_id, lambda: effects_of(counts, arm_ids, slots).examination)
    return effects_of(counts, arm_ids, slots, fit=False, examination=examination)


def effects_of(
    counts: Sequence[SlotCount],
    arm_ids: Sequence[int],
    slots: int,
    *,
    fit: bool = True,
    examination: FloatArray | None = None,
) -> SlotEffects:
    """:func:`slot_effects` from rows already read; ``fit=False`` takes ``examination`` as
    given (a cached fit: a slot beyond it is counted plainly)."""
    width = max([slots, *(c.position for c in counts)])
    index = {bandit_id: d for d, bandit_id in enumerate(arm_ids)}
    impressions = np.zeros((len(arm_ids), width), dtype=np.int64)
    clicks = np.zeros((len(arm_ids), width), dtype=np.int64)
    for c in counts:
        d = index.get(c.bandit_id)
        if d is not None:
            impressions[d, c.position - 1] = c.impressions
            clicks[d, c.position - 1] = c.clicks
    if not fit:
        if examination is not None and len(examination) < width:
            examination = np.concatenate([examination, np.ones(width - len(examination))])
        return SlotEffects(
            impressions, clicks, None if examination is None else examination[:width]
        )
    return SlotEffects(impressions, clicks, _fit(impressions, clicks))


def _fit(
    impressions: CountArray, clicks: CountArray, start: FloatArray | None = None
) -> FloatArray | None:
    """The examination fit, or None with nothing to fit (one slot, or no slotted click);
    ``start`` (a fit of other counters) is used when it has the slots of these."""
    if impressions.shape[1] < 2 or impressions[:, 1:].sum() == 0 or clicks.sum() == 0:
        return None
    if start is not None and len(start) != impressions.shape[1]:
        start = None
    return fit_examination(impressions, clicks, start=start).probabilities
