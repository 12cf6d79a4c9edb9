"""Per deal and slot counters (``bandit_positions``): written beside the spec's counters.

Each batch of impressions and clicks adds to them in one upsert in the same transaction as the
deals' own counters (after them, in ``(bandit_id, position)`` order, so concurrent writers lock
in one order). They let the slot effects and the uplift be read from deals x slots rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hotdeals.db.models import Base

BANDIT_POSITIONS = Base.metadata.tables["bandit_positions"]

Slot = tuple[int, int]
"""``(bandit_id, position)``."""


@dataclass(frozen=True, slots=True)
class SlotCount:
    """One deal's impressions and clicks in one slot."""

    bandit_id: int
    position: int
    impressions: int
    clicks: int


def apply_slot_counts(
    session: Session, *, shown: Counter[Slot] | None = None, clicked: Counter[Slot] | None = None
) -> None:
    """Add ``shown[s]`` impressions and ``clicked[s]`` first clicks to each deal-slot ``s``.

    One ``INSERT ... ON CONFLICT DO UPDATE SET impressions = impressions + excluded...`` for every
    touched pair (none when nothing was touched): the increments happen in the database, so no
    concurrent update is lost, and the first impression of a pair creates its row.
    """
    shown, clicked = shown or Counter(), clicked or Counter()
    pairs = sorted(set(shown) | set(clicked))
    if not pairs:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [
        {"bandit_id": b, "position": p, "impressions": shown[(b, p)], "clicks": clicked[(b, p)]}
        for b, p in pairs
    ]
    statement = insert(BANDIT_POSITIONS).values(rows)
    table = BANDIT_POSITIONS.c
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.bandit_id, table.position],
            set_={
                "impressions": table.impressions + statement.excluded.impressions,
                "clicks": table.clicks + statement.excluded.clicks,
            },
        )
    )


def read_slot_counts(session: Session, bandit_ids: Collection[int]) -> list[SlotCount]:
    """The deals' rows, in ``(bandit_id, position)`` order; a pair never shown has none."""
    if not bandit_ids:
        return []
    table = BANDIT_POSITIONS.c
    rows = session.execute(
        select(table.bandit_id, table.position, table.impressions, table.clicks)
        .where(table.bandit_id.in_(sorted(bandit_ids)))
        .order_by(table.bandit_id, table.position)
    )
    return [SlotCount(r.bandit_id, r.position, int(r.impressions), int(r.clicks)) for r in rows]
