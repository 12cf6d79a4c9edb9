"""The one check of every scalar setting (``k``, ``epsilon``, a prior, a level) of the package.

Every parameter of the package goes through :func:`check_number`, so they all refuse the same
things (booleans, strings, NaN, infinities, values out of range) with the same wording: the
parameter's name, what it must be, and the value that was given.
"""

from __future__ import annotations

import math
import operator
from typing import Any, Final, Literal, SupportsIndex, TypeGuard, cast, overload

import numpy as np

from hotdeals.bandit.errors import InvalidParameterError

__all__ = ["check_number"]

# Built once: a ``bool | np.bool_`` union written inside a function is rebuilt on every call.
_BOOLEANS: Final = (bool, np.bool_)
_REALS: Final = (int, float, np.integer, np.floating)


@overload
def check_number(
    value: object,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    integer: Literal[False] = False,
) -> float: ...


@overload
def check_number(
    value: object,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    integer: Literal[True],
) -> int: ...


@overload
def check_number(
    value: object,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    integer: bool,
) -> float | int: ...


def check_number(
    value: object,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    integer: bool = False,
) -> float | int:
    """``value`` as an ``int`` (``integer=True``) or a finite ``float`` within the bounds.

    Refuses booleans (``k=True`` or ``epsilon=True`` is always a mistake), non-numbers, NaN,
    infinities and values outside the range with an :class:`InvalidParameterError` such as
    ``k must be an integer >= 1, got 0`` or ``epsilon must be in [0, 1], got 2.0``. Integers are
    whatever ``operator.index`` accepts (``int``, NumPy integers), so ``2.0`` is not one; floats
    are ``int``, ``float`` and NumPy real numbers. A bound of ``None`` means unbounded.
    """
    number = _as_integer(value) if integer else _as_finite_float(value)
    if number is not None and _within(number, low, high, low_inclusive, high_inclusive):
        return number
    # Only a refusal pays for building the message: ranking checks k on every request.
    bounds = _describe_range(low, high, low_inclusive=low_inclusive, high_inclusive=high_inclusive)
    if integer:
        requirement = f"an integer {bounds}".rstrip()
    elif not _is_real(value):
        requirement = f"a number {bounds}".rstrip()
    elif low is not None and high is not None:
        requirement = bounds  # "in [0, 1]": a real interval already means a finite number
    else:
        requirement = f"finite and {bounds}" if bounds else "finite"
    # The value as given, except NumPy scalars, whose repr (np.int64(0)) is noise.
    shown = value.item() if isinstance(value, np.integer | np.floating) else value
    raise InvalidParameterError(f"{name} must be {requirement}, got {shown!r}")


def _is_real(value: object) -> TypeGuard[float | np.integer[Any] | np.floating[Any]]:
    """A real number that is not a boolean (``True`` is an ``int`` to Python, not to us)."""
    return not isinstance(value, bool) and isinstance(value, _REALS)


def _as_integer(value: object) -> int | None:
    if isinstance(value, _BOOLEANS):
        return None
    try:  # operator.index rather than isinstance(SupportsIndex): it is the faster test for k
        return operator.index(cast(SupportsIndex, value))
    except TypeError:
        return None


def _as_finite_float(value: object) -> float | None:
    if not _is_real(value):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond the float range is as good as infinite
        return None
    return number if math.isfinite(number) else None


def _within(
    number: float, low: float | None, high: float | None, low_inclusive: bool, high_inclusive: bool
) -> bool:
    if low is not None and (number < low if low_inclusive else number <= low):
        return False
    return high is None or (number <= high if high_inclusive else number < high)


def _describe_range(
    low: float | None,
    high: float | None,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> str:
    """The range as every message words it: ``in [0, 1]``, ``in (0.5, 1]``, ``> 0``, ``>= 1``.

    An empty string when both bounds are ``None``.
    """
    if low is not None and high is not None:
        opening = "[" if low_inclusive else "("
        closing = "]" if high_inclusive else ")"
        return f"in {opening}{_bound(low)}, {_bound(high)}{closing}"
    if low is not None:
        return f"{'>=' if low_inclusive else '>'} {_bound(low)}"
    if high is not None:
        return f"{'<=' if high_inclusive else '<'} {_bound(high)}"
    return ""


def _bound(value: float) -> str:
    """``1`` rather than ``1.0`` and ``0.5`` as is, so that ranges read like mathematics."""
    return f"{value:g}"
