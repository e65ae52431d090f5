"""An order's lines as they are now, for whoever holds the order's lock and changes them
(refunds, returns, shipping)."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.orders.models import OrderLine


async def lines_of(session: AsyncSession, order_id: int) -> dict[int, OrderLine]:
    """The order's lines as they are now, by id."""
    rows = await session.exec(
        select(OrderLine)
        .where(OrderLine.order_id == order_id)
        .order_by(col(OrderLine.id))
        .execution_options(populate_existing=True)
    )
    return {line.id: line for line in rows.all() if line.id is not None}
