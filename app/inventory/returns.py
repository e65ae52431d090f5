"""Units of an order back on the shelves they were taken from: when an unpaid order is
cancelled (all of it) and when units are refunded (some of a line)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from app.inventory.allocation import units_by_row
from app.inventory.locking import Column, adjust, lock


@dataclass(frozen=True, slots=True)
class ReturnedUnits:
    """`quantity` units of one order line, after the `earlier` units it gave back before.

    `allocations`: where the line's units were taken (`OrderLine.allocations`)."""

    allocations: Sequence[Mapping[str, int]]
    quantity: int
    earlier: int = 0


async def return_units(session: AsyncSession, returned: Sequence[ReturnedUnits]) -> dict[int, int]:
    """Puts the units back on hand where they came from, in one statement; returns the
    units per stock id. A row deleted since (its variant is gone) gets nothing back."""
    units: dict[int, int] = {}
    for line in returned:
        for stock_id, quantity in units_by_row(
            line.allocations, line.quantity, line.earlier
        ).items():
            units[stock_id] = units.get(stock_id, 0) + quantity
    locked = await lock(session, stock_ids=units)
    # The lock holds every row of these variants; only rows that still exist get units.
    await adjust(session, locked, Column.QUANTITY, {s: units[s] for s in locked.rows if s in units})
    return units
