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


def slot_effects(
    session: Session,
    arm_ids: Sequence[int],
    slots: int,
    *,
    project_id: int | None = None,
    fits: ExaminationFits | None = None,
) -> SlotEffects:
    """The campaign's slot effects over ``arm_ids``, at least ``slots`` slots wide; with
    ``fits`` (and the ``project_id`` to file it under) a recent fit is reused."""
    counts = read_slot_counts(session, arm_ids)
    if fits is None or project_id is None:
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
    examination = None
    if width > 1 and impressions[:, 1:].sum() > 0 and clicks.sum() > 0:
        examination = fit_examination(impressions, clicks).probabilities
    return SlotEffects(impressions, clicks, examination)
