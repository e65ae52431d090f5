"""Units taken for an order at checkout: all of them, or none."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from app.inventory import holds
from app.inventory.allocation import Take, plan
from app.inventory.locking import Column, adjust, lock

Shortfall = dict[int, int]  # variant id -> units available, for what falls short


async def take_for_order(
    session: AsyncSession,
    needs: Mapping[int, int],
    line_ids: Collection[int],
    now: datetime,
) -> list[Take] | Shortfall:
    """Takes `needs` (units per variant) off the shelves, from the fewest warehouses.

    Every row of these variants is locked first, in id order (the cart's holds are on
    them too); then the holds of `line_ids` become the sale, and other carts' holds that
    have run out by `now` no longer count, swept or not. Returns what was taken, or the
    shortfall (nothing taken).
    """
    locked = await lock(session, variant_ids=needs)
    await holds.release(session, locked, lines=line_ids, expired_at=now)
    result = plan(needs, list(locked.rows.values()))
    if isinstance(result, dict):
        return result
    taking: dict[int, int] = {}
    for take in result:
        taking[take.stock_id] = taking.get(take.stock_id, 0) - take.quantity
    taken = await adjust(session, locked, Column.QUANTITY, taking)
    assert taken, "a plan made from the locked rows fits them"
    return result
