"""Array type aliases and the coercions that turn malformed arrays into a :class:`BanditError`.

Callers hand us lists, database rows or NumPy arrays; converting them in one place means every
module sees well-typed, one-dimensional arrays and every malformed input fails with the same
kind of message instead of a NumPy broadcasting error deep inside a policy. Single numbers are
checked by :func:`hotdeals.bandit.checks.check_number`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hotdeals.bandit.errors import BanditError, InvalidArmsError

__all__ = [
    "CountArray",
    "FloatArray",
    "IndexArray",
    "as_count_vector",
    "as_float_vector",
    "column_quantiles",
]

FloatArray: TypeAlias = NDArray[np.float64]
CountArray: TypeAlias = NDArray[np.int64]
IndexArray: TypeAlias = NDArray[np.intp]


def as_float_vector(
    values: ArrayLike, name: str, error: type[BanditError] = InvalidArmsError
) -> FloatArray:
    """A 1-D float64 array; rejects strings and nested lists before NumPy guesses a meaning."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise error(f"{name} must be numbers, got {values!r}") from exc
    if array.ndim != 1:
        raise error(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def as_count_vector(
    values: ArrayLike, name: str, error: type[BanditError] = InvalidArmsError
) -> CountArray:
    """A 1-D int64 array; whole floats (``3.0``) pass because database drivers produce them."""
    try:
        raw = np.asarray(values)
    except (TypeError, ValueError) as exc:  # pragma: no cover - asarray accepts almost anything
        raise error(f"{name} must be whole numbers, got {values!r}") from exc
    if raw.ndim != 1:
        raise error(f"{name} must be one-dimensional, got shape {raw.shape}")
    if raw.size == 0:
        return np.zeros(0, dtype=np.int64)
    if raw.dtype.kind in "iu":
        return raw.astype(np.int64)
    if (
        raw.dtype.kind == "f"
        and bool(np.all(np.isfinite(raw)))
        and bool(np.all(raw == np.round(raw)))
    ):
        return raw.astype(np.int64)
    raise error(f"{name} must be whole numbers, got {values!r}")


def column_quantiles(draws: FloatArray, levels: Sequence[float]) -> FloatArray:
    """``np.quantile(draws, levels, axis=0)`` (linear interpolation) of a (draws, columns)
    matrix, by one sort: NumPy's vectorised sort is ~7x faster here than the partitions of
    ``np.quantile``, which dominated the figures of a thousand deals. An infinite draw is
    kept where the interpolation weight is 0, both neighbours are equal or only one is infinite
    (the limit of the interpolation, where ``inf - inf`` would give NaN)."""
    ordered = np.sort(draws, axis=0)
    position = np.asarray(levels, dtype=np.float64) * (len(ordered) - 1)
    below = np.floor(position).astype(np.intp)
    above = np.minimum(below + 1, len(ordered) - 1)
    weight = (position - below)[:, np.newaxis]
    low, high = ordered[below], ordered[above]
    with np.errstate(invalid="ignore"):
        between = low + (high - low) * weight
    one_infinite = np.isinf(low) ^ np.isinf(high)
    between = np.where(one_infinite, np.where(np.isinf(low), low, high), between)
    quantiles: FloatArray = np.where((weight == 0) | (low == high), low, between)
    return quantiles
