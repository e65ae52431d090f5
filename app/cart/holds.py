"""Stock held for carts (reserve-on-add variants).

A hold moves units into `stock.reserved` with a conditional update, so the
units cannot be promised twice, and records them in `stock_hold` with an
expiry. Releasing gives them back. Expired holds are released lazily by the
writes that need those units, and by the background sweeper.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.cart.models import StockHold
from app.catalog.models import Stock


async def take(
    session: AsyncSession, line_id: int, variant_id: int, quantity: int, expires_at: datetime
) -> bool:
    """Hold `quantity` units for the line, from the warehouses with most to spare.

    False (and nothing held) when there are not enough units.
    """
    rows = (
        await session.exec(
            select(Stock)
            .where(Stock.variant_id == variant_id)
            .order_by(col(Stock.id))
            .with_for_update()
        )
    ).all()
    spare = sorted(rows, key=lambda s: (-(s.quantity - s.reserved), s.id or 0))
    left = quantity
    for stock in spare:
        if left == 0:
            break
        part = min(left, stock.quantity - stock.reserved)
        if part <= 0:
            continue
        taken = await session.exec(  # type: ignore[call-overload]
            update(Stock)
            .where(col(Stock.id) == stock.id, col(Stock.quantity) - col(Stock.reserved) >= part)
            .values(reserved=col(Stock.reserved) + part)
        )
        if taken.rowcount != 1:
            return False
        assert stock.id is not None
        session.add(
            StockHold(line_id=line_id, stock_id=stock.id, quantity=part, expires_at=expires_at)
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
    deleted = await session.exec(  # type: ignore[call-overload]
        delete(StockHold)
        .where(col(StockHold.id).in_([h.id for h in holds]))
        .returning(StockHold.stock_id, StockHold.quantity)
    )
    freed: dict[int, int] = {}
    for stock_id, quantity in deleted.all():
        freed[stock_id] = freed.get(stock_id, 0) + quantity
    # Stock rows are always locked in id order, so concurrent writers cannot deadlock.
    for stock_id in sorted(freed):
        await session.exec(  # type: ignore[call-overload]
            update(Stock)
            .where(col(Stock.id) == stock_id)
            .values(reserved=col(Stock.reserved) - freed[stock_id])
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
    query = select(StockHold).where(col(StockHold.expires_at) <= now)
    if variant_ids is not None:
        query = query.where(
            col(StockHold.stock_id).in_(
                select(Stock.id).where(col(Stock.variant_id).in_(variant_ids))
            )
        )
    expired = list((await session.exec(query.with_for_update())).all())
    await release(session, expired)
    return len(expired)
