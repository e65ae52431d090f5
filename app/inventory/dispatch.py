"""Units of orders leaving from a warehouse other than the one checkout allocated.

Checkout took the units off the shelves it allocated (`sales`); shipping them
from there changes no stock row. When staff send units from another warehouse,
that warehouse's units are taken and the allocated ones go back on their shelves,
in one statement, under the one lock of every row concerned
(`locking`), so that nothing is ever counted twice or lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from app.inventory.locking import Column, adjust, lock


@dataclass(frozen=True, slots=True)
class Swap:
    """`count` units of `variant_id` to take in `warehouse_id`, in place of the units
    `back` (per stock id) allocated elsewhere."""

    variant_id: int
    warehouse_id: int
    count: int
    back: Mapping[int, int]


@dataclass(frozen=True, slots=True)
class Short:
    """What the warehouse has of a variant, when it has fewer units than asked."""

    variant_id: int
    available: int


async def swap(session: AsyncSession, swaps: Sequence[Swap]) -> dict[int, int] | list[Short]:
    """Makes every swap, or none: the stock row taken from per variant, or what falls short."""
    wanted = [s for s in swaps if s.count > 0]
    if not wanted:
        return {}
    back_rows = {stock_id for s in wanted for stock_id in s.back}
    locked = await lock(session, variant_ids={s.variant_id for s in wanted}, stock_ids=back_rows)
    rows: dict[int, int] = {}
    deltas: dict[int, int] = {}
    short: list[Short] = []
    for s in wanted:
        row = next(
            (r for r in locked.of_variant(s.variant_id) if r.warehouse_id == s.warehouse_id),
            None,
        )
        if row is None or row.available < s.count:
            short.append(Short(s.variant_id, row.available if row else 0))
            continue
        rows[s.variant_id] = row.stock_id
        deltas[row.stock_id] = deltas.get(row.stock_id, 0) - s.count
        for stock_id, n in s.back.items():
            if stock_id in locked.rows:  # a row deleted since gets nothing back
                deltas[stock_id] = deltas.get(stock_id, 0) + n
    if short:
        return short  # nothing written
    # Units going back are added before the conditional take reads what is available.
    await adjust(session, locked, Column.QUANTITY, {k: v for k, v in deltas.items() if v > 0})
    # False only when two lines of one variant together want more than the warehouse has;
    # the caller fails, and the transaction rolls back the units put back above.
    if not await adjust(
        session, locked, Column.QUANTITY, {k: v for k, v in deltas.items() if v < 0}
    ):
        return [Short(s.variant_id, locked.units(s.variant_id)) for s in wanted]
    return rows
