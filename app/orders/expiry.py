"""Unpaid orders past their deadline are cancelled and give their stock back."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.catalog import stock
from app.catalog.models import Stock
from app.checkout.models import Promotion, PromotionRedemption
from app.database import Database
from app.orders.models import Order, OrderEvent, OrderLine, OrderStatus


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
    returned: dict[int, int] = {}
    for line in lines:
        for part in line.allocations:
            returned[part["stockId"]] = returned.get(part["stockId"], 0) + part["quantity"]
    # All of them up front, in stock id order, as every stock write locks them.
    await stock.lock(session, stock_ids=returned)
    for stock_id in sorted(returned):
        await session.exec(  # type: ignore[call-overload]
            update(Stock)
            .where(col(Stock.id) == stock_id)
            .values(quantity=col(Stock.quantity) + returned[stock_id])
        )
    redemptions = (
        await session.exec(
            select(PromotionRedemption).where(PromotionRedemption.order_id == order_id)
        )
    ).all()
    for redemption in redemptions:
        await session.exec(  # type: ignore[call-overload]
            update(Promotion)
            .where(col(Promotion.id) == redemption.promotion_id, col(Promotion.used_count) > 0)
            .values(used_count=col(Promotion.used_count) - 1)
        )
    await session.exec(  # type: ignore[call-overload]
        delete(PromotionRedemption).where(col(PromotionRedemption.order_id) == order_id)
    )
    session.add(
        OrderEvent(
            order_id=order_id,
            type="CANCELLED",
            message="cancelled: not paid in time; stock released",
            created_at=now,
        )
    )
    return 1
