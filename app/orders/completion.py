"""Completing orders: the customer confirms receipt, or the upkeep completes delivered
orders some days later; either way the customer earns points."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.permissions import Viewer
from app.database import Database
from app.ledger import Source
from app.loyalty import points
from app.loyalty.models import PointsEntryKind
from app.loyalty.points import PointsRates
from app.orders import access, events, transitions
from app.orders.models import Order, OrderEventType, OrderStatus


async def complete(
    session: AsyncSession,
    order: Order,
    message: str,
    rates: PointsRates,
    now: datetime,
    *field: str,
) -> int:
    """Completes a locked order and credits its customer's points; the points earned.

    Points are earned on what the order cost after refunds, whatever paid for it; guests
    have no account to earn into."""
    transitions.move(session, order, OrderStatus.COMPLETED, message, now, *field)
    assert order.id is not None
    earned = rates.earned_on(max(order.total - order.total_refunded, 0))
    if order.user_id is None or earned == 0:
        return 0
    await points.credit(
        session, order.user_id, earned, PointsEntryKind.EARNED, Source(order_id=order.id), now
    )
    events.record(session, order.id, OrderEventType.POINTS_EARNED, f"{earned} points earned", now)
    return earned


async def confirm_receipt(
    session: AsyncSession, viewer: Viewer, order_id: int, rates: PointsRates, now: datetime
) -> Order:
    """The customer (or order staff) says the parcel arrived: a shipped or delivered order
    completes."""
    order = access.require_visible(viewer, await transitions.lock(session, order_id), "id")
    await complete(session, order, "completed: receipt confirmed", rates, now, "id")
    return order


async def complete_delivered_orders(
    db: Database, now: datetime, after_days: int, rates: PointsRates, limit: int = 100
) -> int:
    """Completes up to `limit` orders delivered `after_days` days ago or earlier; safe to
    run in every worker at once."""
    delivered_before = now - timedelta(days=after_days)
    async with db.session() as session:
        due = list(
            (
                await session.exec(
                    select(Order.id)
                    .where(
                        Order.status == OrderStatus.DELIVERED,
                        col(Order.delivered_at) <= delivered_before,
                    )
                    .order_by(col(Order.delivered_at))
                    .limit(limit)
                )
            ).all()
        )
    message = f"completed: delivered {after_days} days ago"
    completed = 0
    for order_id in due:
        assert order_id is not None
        completed += await db.run_transaction(
            partial(
                _complete_if_due,
                order_id=order_id,
                delivered_before=delivered_before,
                message=message,
                rates=rates,
                now=now,
            ),
            "complete a delivered order",
        )
    return completed


async def _complete_if_due(
    session: AsyncSession,
    order_id: int,
    delivered_before: datetime,
    message: str,
    rates: PointsRates,
    now: datetime,
) -> int:
    # The customer may have confirmed it meanwhile: whoever locks it first completes it.
    order = await transitions.lock(session, order_id)
    if (
        order is None
        or order.status != OrderStatus.DELIVERED
        or order.delivered_at is None
        or order.delivered_at > delivered_before
    ):
        return 0
    await complete(session, order, message, rates, now)
    return 1
