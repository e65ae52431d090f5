"""Unpaid orders past their deadline are cancelled and give their stock back."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.database import Database
from app.orders import transitions
from app.orders.cancellation import Cancellation, RefundAll, cancel
from app.orders.models import Order, OrderStatus

OVERDUE = Cancellation("not paid in time; stock released")


async def cancel_expired_orders(
    db: Database, now: datetime, refund_all: RefundAll, limit: int = 100
) -> int:
    """Cancels up to `limit` overdue unpaid orders, giving back what was paid of them
    (a gift card, points, part by card); safe to run in every worker at once."""
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
            partial(_cancel, order_id=order_id, refund_all=refund_all, now=now),
            "cancel an overdue order",
        )
    return cancelled


async def _cancel(
    session: AsyncSession, order_id: int, refund_all: RefundAll, now: datetime
) -> int:
    # Whoever locks the order first decides; a payment that arrived first wins.
    order = await transitions.lock(session, order_id)
    if (
        order is None
        or order.status != OrderStatus.UNPAID
        or order.expires_at is None
        or order.expires_at > now
    ):
        return 0
    await cancel(session, order, OVERDUE, refund_all, now)
    return 1
