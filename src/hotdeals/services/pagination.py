"""Listings come back a page at a time with their total."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing and the total, so a client knows when to stop."""

    items: list[T]
    total: int
    limit: int
    offset: int
