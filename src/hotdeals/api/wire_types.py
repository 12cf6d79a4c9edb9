"""The JSON API's wire types: the vocabulary's limits, strict about types over the wire.

A client that sends ``"3"`` for 3, ``0`` for false or a number for a time has a bug we should
tell it about (a 422 naming the field), not guess around.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator, Field, Strict

from hotdeals.vocabulary import (
    MAX_K,
    EndsAt,
    Epsilon,
    HalfLifeHours,
    Id,
    MaxRelativeLoss,
    MinDurationDays,
    MinImpressions,
    MinProbBest,
    Prior,
    Slots,
    StartsAt,
)

# Over the wire numbers and booleans are strict ("3" is not 3, 0 is not false); the limits
# themselves are the vocabulary's.
StrictId = Annotated[Id, Strict()]
StrictSlots = Annotated[Slots, Strict()]
StrictEpsilon = Annotated[Epsilon, Strict()]
StrictPrior = Annotated[Prior, Strict()]
StrictMinProbBest = Annotated[MinProbBest, Strict()]
StrictMinImpressions = Annotated[MinImpressions, Strict()]
StrictMaxRelativeLoss = Annotated[MaxRelativeLoss, Strict()]
StrictMinDurationDays = Annotated[MinDurationDays, Strict()]
StrictHalfLifeHours = Annotated[HalfLifeHours, Strict()]
StrictBool = Annotated[bool, Strict()]


def _time_text(value: object) -> object:
    """Refuse a bare number, which pydantic would read as Unix seconds: over the wire a
    window's end is an ISO 8601 string with a zone."""
    if not isinstance(value, str | datetime):
        raise ValueError("a time is an ISO 8601 string with a zone, e.g. 2026-12-13T23:59:59Z")
    return value


StrictStartsAt = Annotated[StartsAt, BeforeValidator(_time_text)]
StrictEndsAt = Annotated[EndsAt, BeforeValidator(_time_text)]
StrictK = Annotated[int, Strict(), Field(ge=1, le=MAX_K)]
