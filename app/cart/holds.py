"""Stock held for carts (reserve-on-add variants).

A hold moves units into `stock.reserved` with a conditional update, so the
units cannot be promised twice, and records them in `stock_hold` with an
expiry. Releasing gives them back. Expired holds are released lazily by the
writes that need those units, and by the background sweeper.

Holds are written only under the lock on their stock row (`catalog.stock`
has the lock order): every function here locks the rows it needs first.
Callers that touch several variants lock all their rows up front, so that
the locks taken here are ones they hold already.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.cart.models import StockHold
from app.catalog import stock
from app.catalog.models import Stock


async def take(
    session: AsyncSession, line_id: int, variant_id: int, quantity: int, expires_at: datetime
) -> bool:
    """Hold `quantity` units for the line, from the warehouses with most to spare.

    False (and nothing held) when there are not enough units.
    """
    rows = await stock.lock(session, variant_ids=[variant_id])
    spare = sorted(rows, key=lambda s: (-(s.quantity - s.reserved), s.id or 0))
    left = quantity
    for row in spare:
        if left == 0:
            break
        part = min(left, row.quantity - row.reserved)
        if part <= 0:
            continue
        taken = await session.exec(  # type: ignore[call-overload]
            update(Stock)
            .where(col(Stock.id) == row.id, col(Stock.quantity) - col(Stock.reserved) >= part)
            .values(reserved=col(Stock.reserved) + part)
        )
        if taken.rowcount != 1:
            return False
        assert row.id is not None
        session.add(
            StockHold(line_id=line_id, stock_id=row.id, quantity=part, expires_at=expires_at)
        )
        left -= part
    return left == 0


async def release(session: AsyncSession, holds: Sequence[StockHold]) -> None:
    """Give held units back to their stock and forget the holds.

    Only the holds this call deletes are given back: a hold that a concurrent
    release (another request, the upkeep) got to first is not counted twice.
    """
    if not holds:
        return
    await _give_back(
        session, {h.stock_id for h in holds}, col(StockHold.id).in_([h.id for h in holds])
    )


async def of_lines(session: AsyncSession, line_ids: Sequence[int]) -> list[StockHold]:
    if not line_ids:
        return []
    rows = await session.exec(select(StockHold).where(col(StockHold.line_id).in_(line_ids)))
    return list(rows.all())


async def release_lines(session: AsyncSession, line_ids: Sequence[int]) -> None:
    await release(session, await of_lines(session, line_ids))


async def release_expired(
    session: AsyncSession, now: datetime, variant_ids: Sequence[int] | None = None
) -> int:
    """Release holds past their expiry (for these variants only, when given)."""
    expired = col(StockHold.expires_at) <= now
    query = select(StockHold.stock_id).where(expired).distinct()
    if variant_ids is not None:
        query = query.where(
            col(StockHold.stock_id).in_(
                select(Stock.id).where(col(Stock.variant_id).in_(variant_ids))
            )
        )
    stock_ids = set((await session.exec(query)).all())
    if not stock_ids:
        return 0
    # Only holds of the rows locked here: one that expired meanwhile elsewhere waits its turn.
    return await _give_back(
        session, stock_ids, and_(expired, col(StockHold.stock_id).in_(stock_ids))
    )


async def _give_back(
    session: AsyncSession, stock_ids: Collection[int], holds: ColumnElement[bool]
) -> int:
    """Deletes the holds matching `holds` (all on `stock_ids`) and returns their units to
    stock; the number of holds deleted."""
    await stock.lock(session, stock_ids=stock_ids)
    deleted = (
        await session.exec(  # type: ignore[call-overload]
            delete(StockHold).where(holds).returning(StockHold.stock_id, StockHold.quantity)
        )
    ).all()
    freed: dict[int, int] = {}
    for stock_id, quantity in deleted:
        freed[stock_id] = freed.get(stock_id, 0) + quantity
    for stock_id in sorted(freed):
        await session.exec(  # type: ignore[call-overload]
            update(Stock)
            .where(col(Stock.id) == stock_id)
            .values(reserved=col(Stock.reserved) - freed[stock_id])
        )
    return len(deleted)
