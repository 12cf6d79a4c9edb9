"""Discounted posteriors: a deal's evidence fades with a half-life, so a change of appeal shows.

Hot deals drift (a deal sells out, the weather turns), and an all-time posterior built on
200,000 impressions needs tens of thousands more to notice (docs/simulation.md, "Deals that come
and go"). Here every impression at time ``t`` and every click at time ``c`` weighs
``0.5 ** ((T - t) / half_life)`` at the reference time ``T``: the state is two floats per deal,
the discounted impressions and clicks at ``T``, and moving the reference to ``T'`` multiplies both
by :func:`decay` ``(T' - T)``. Time is the caller's unit: seconds on the server, steps in the
simulation; discounting by time rather than per impression keeps a quiet night from erasing what
a busy day taught.

The posterior shrinks toward the deal's **own prior** (the campaign's, or an informed one from
:mod:`hotdeals.bandit.priors`), never toward Beta(1, 1): with no recent evidence a 2% deal falls
back to what was believed before any impression, not to a 50% CTR. The spec's all-time counters
are untouched; this is a second view kept beside them.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from hotdeals.bandit.arrays import FloatArray
from hotdeals.bandit.checks import check_number
from hotdeals.bandit.errors import InvalidArmsError

__all__ = ["decay", "discounted_posteriors", "discounted_sum"]


def decay(elapsed: float, half_life: float) -> float:
    """The weight ``0.5 ** (elapsed / half_life)`` of evidence ``elapsed`` time units old.

    ``elapsed`` may be negative (evidence dated after the reference): the weight is then above 1.
    ``half_life`` must be a finite number > 0 (forgetting "off" is the caller's ``None``).
    """
    half_life = check_number(half_life, "half_life", low=0, low_inclusive=False)
    elapsed = check_number(elapsed, "elapsed")
    try:
        return math.pow(0.5, elapsed / half_life)
    except OverflowError:
        return math.inf


def discounted_sum(times: ArrayLike, reference: float, half_life: float) -> float:
    """Sum of the weights of events at ``times`` seen from ``reference``: a rebuild from the log.

    ``discounted_sum(impression_times, T, h)`` and ``discounted_sum(click_times, T, h)`` are the
    state at ``T`` that an incrementally kept one must equal (up to float rounding). Events far
    older than the half-life underflow to 0, which is their weight to 1e-300.
    """
    half_life = check_number(half_life, "half_life", low=0, low_inclusive=False)
    reference = check_number(reference, "reference")
    values = np.asarray(times, dtype=np.float64).reshape(-1)
    if not bool(np.all(np.isfinite(values))):
        raise InvalidArmsError(f"times must be finite numbers, got {values.tolist()}")
    with np.errstate(over="ignore"):
        return float(np.power(0.5, (reference - values) / half_life).sum())


def discounted_posteriors(
    prior_alpha: ArrayLike, prior_beta: ArrayLike, impressions: ArrayLike, clicks: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """``(prior_alpha + clicks, prior_beta + max(impressions - clicks, 0))``, elementwise.

    Arguments broadcast together (scalars or arrays of any shape); the discounted counts are
    floats. Clicks may exceed impressions once discounted (a click is dated after its impression,
    so it has faded less), hence the floor at 0 on the failures. Priors must be > 0 and the
    counts >= 0, all finite: :class:`InvalidArmsError` otherwise.
    """
    arrays = []
    for name, values, positive in (
        ("prior_alpha", prior_alpha, True),
        ("prior_beta", prior_beta, True),
        ("impressions", impressions, False),
        ("clicks", clicks, False),
    ):
        try:
            array = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidArmsError(f"{name} must be numbers, got {values!r}") from exc
        bad = ~np.isfinite(array) | ((array <= 0) if positive else (array < 0))
        if bool(bad.any()):
            bound = "> 0" if positive else ">= 0"
            raise InvalidArmsError(f"{name} must be finite and {bound}, got {array.tolist()}")
        arrays.append(array)
    try:
        a0, b0, n, c = np.broadcast_arrays(*arrays)
    except ValueError as exc:
        shapes = ", ".join(str(np.shape(a)) for a in arrays)
        raise InvalidArmsError(f"shapes do not broadcast together: {shapes}") from exc
    alpha: FloatArray = a0 + c
    beta: FloatArray = b0 + np.maximum(n - c, 0.0)
    return alpha, beta
