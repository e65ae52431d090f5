"""Unpaid orders past their deadline are cancelled and give their stock back."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.database import Database
from app.inventory.returns import ReturnedUnits, return_units
from app.orders.models import Order, OrderEvent, OrderLine, OrderStatus
from app.promotions.redemptions import give_back


async def cancel_expired_orders(db: Database, now: datetime, limit: int = 100) -> int:
    """Cancels up to `limit` overdue unpaid orders; safe to run in every worker at once."""
    async with db.session() as session:
        due = list(
            (
                await session.exec(
                    select(Order.id)
                    .where(Order.status == OrderStatus.UNPAID, col(Order.expires_at) <= now)
                    .order_by(col(Order.expires_at))
                    .limit(limit)
                )
            ).all()
        )
    cancelled = 0
    for order_id in due:
        assert order_id is not None
        cancelled += await db.run_transaction(
            partial(_cancel, order_id=order_id, now=now), "cancel an overdue order"
        )
    return cancelled


async def _cancel(session: AsyncSession, order_id: int, now: datetime) -> int:
    # Whoever flips the status first does the rest; a payment arriving first wins.
    flipped = await session.exec(  # type: ignore[call-overload]
        update(Order)
        .where(col(Order.id) == order_id, col(Order.status) == OrderStatus.UNPAID)
        .values(status=OrderStatus.CANCELLED.value, amount_due=0)
    )
    if flipped.rowcount != 1:
        return 0
    lines = (await session.exec(select(OrderLine).where(OrderLine.order_id == order_id))).all()
    await return_units(session, [ReturnedUnits(line.allocations, line.quantity) for line in lines])
    await give_back(session, order_id)
    session.add(
        OrderEvent(
            order_id=order_id,
            type="CANCELLED",
            message="cancelled: not paid in time; stock released",
            created_at=now,
        )
    )
    return 1
