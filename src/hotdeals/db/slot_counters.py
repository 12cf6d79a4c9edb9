"""Per deal and slot counters (``bandit_positions``): written beside the spec's counters.

Each batch of impressions and clicks adds to them by one upsert statement in the same transaction
as the deals' own counters (after them, in ``(bandit_id, position)`` order, so concurrent writers
lock in one order). They let the slot effects and the uplift be read from deals x slots rows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hotdeals.db.models import Base

BANDIT_POSITIONS = Base.metadata.tables["bandit_positions"]
BANDITS = Base.metadata.tables["bandits"]

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

    ``INSERT ... ON CONFLICT DO UPDATE SET impressions = impressions + excluded...`` for every
    touched pair (nothing when nothing was touched): the increments happen in the database, so
    no concurrent update is lost, and the first impression of a pair creates its row. One
    statement of fixed text, compiled once: on PostgreSQL the pairs travel as four arrays
    (``unnest``), so a batch costs one statement however many pairs it touches (as many
    single-row upserts cost the click path 30% of its writer time); SQLite, in process, takes
    them as an executemany.
    """
    shown, clicked = shown or Counter(), clicked or Counter()
    pairs = sorted(set(shown) | set(clicked))
    if not pairs:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(UNNEST_UPSERT, unnest_params(shown, clicked))
        return
    rows = [
        {"bandit_id": b, "position": p, "impressions": shown[(b, p)], "clicks": clicked[(b, p)]}
        for b, p in pairs
    ]
    session.execute(_SQLITE_UPSERT, rows)


def unnest_params(shown: Counter[Slot], clicked: Counter[Slot]) -> dict[str, list[int]]:
    """:data:`UNNEST_UPSERT`'s parameters: the touched pairs as four arrays (maybe empty)."""
    pairs = sorted(set(shown) | set(clicked))
    return {
        "bandit_ids": [b for b, _ in pairs],
        "positions": [p for _, p in pairs],
        "impressions": [shown[s] for s in pairs],
        "clicks": [clicked[s] for s in pairs],
    }


def _adding(statement: postgresql.Insert | sqlite.Insert) -> Any:
    """``statement`` with ``ON CONFLICT (bandit_id, position)`` adding the excluded counts."""
    table = BANDIT_POSITIONS.c
    return statement.on_conflict_do_update(
        index_elements=[table.bandit_id, table.position],
        set_={
            "impressions": table.impressions + statement.excluded.impressions,
            "clicks": table.clicks + statement.excluded.clicks,
        },
    )


_COLUMNS = ("bandit_id", "position", "impressions", "clicks")
_PAIRS = (
    func.unnest(
        *(
            bindparam(name, type_=postgresql.ARRAY(Integer))
            for name in ("bandit_ids", "positions", "impressions", "clicks")
        )
    )
    .table_valued(*_COLUMNS)
    .render_derived(name="pairs")
)
UNNEST_UPSERT = _adding(
    postgresql.insert(BANDIT_POSITIONS).from_select(list(_COLUMNS), select(*_PAIRS.c))
)
"""PostgreSQL's upsert of any number of pairs in one statement (:func:`unnest_params`)."""
_SQLITE_UPSERT = _adding(sqlite.insert(BANDIT_POSITIONS))


def read_slot_counts(session: Session, project_id: int) -> list[SlotCount]:
    """The campaign's rows, in ``(bandit_id, position)`` order; a pair never shown has none.

    Selected by the campaign (a subquery on ``bandits``), not by a list of ids: with a thousand
    deals a bound list costs more to send and plan than the rows cost to read."""
    table = BANDIT_POSITIONS.c
    deals = BANDITS.c
    rows = session.execute(
        select(table.bandit_id, table.position, table.impressions, table.clicks)
        .where(table.bandit_id.in_(select(deals.bandit_id).where(deals.project_id == project_id)))
        .order_by(table.bandit_id, table.position)
    )
    return [SlotCount(r.bandit_id, r.position, int(r.impressions), int(r.clicks)) for r in rows]
