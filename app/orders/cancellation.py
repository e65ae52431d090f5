"""Cancelling an order: its status (through the transition table), its stock back on the
shelves, its coupon uses given back, and everything paid given back.

The money is given back by whatever `RefundAll` the caller passes
(`app.payments.refunds.Refunder`): orders know nothing of tenders and gateways.
Lock order (`app.inventory.locking`): the order (locked by the caller), its stock
rows, its promotions, then whatever the refund locks (gift cards, points).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.permissions import Viewer
from app.errors import ErrorCode, fail
from app.inventory.returns import ReturnedUnits, return_units
from app.orders import access, transitions
from app.orders.models import Order, OrderLine, OrderStatus
from app.promotions.redemptions import give_back


@dataclass(frozen=True, slots=True)
class Cancellation:
    """Why an order is cancelled, and by whom (None: the shop itself)."""

    reason: str
    by: int | None = None


MAX_REASON_LENGTH = 2000

# Gives back everything paid for a cancelled order; returns the amount given back.
RefundAll = Callable[[AsyncSession, Order, Cancellation, datetime], Awaitable[int]]


async def cancel(
    session: AsyncSession,
    order: Order,
    cancellation: Cancellation,
    refund_all: RefundAll,
    now: datetime,
    *field: str,
) -> None:
    """Cancels a locked order; INVALID_STATE (at `field`) when its status does not allow
    it, and then nothing changes."""
    transitions.move(
        session, order, OrderStatus.CANCELLED, f"cancelled: {cancellation.reason}", now, *field
    )
    assert order.id is not None
    lines = (await session.exec(select(OrderLine).where(OrderLine.order_id == order.id))).all()
    await return_units(session, [ReturnedUnits(line.allocations, line.quantity) for line in lines])
    await give_back(session, order.id)
    await refund_all(session, order, cancellation, now)


async def cancel_for(
    session: AsyncSession,
    viewer: Viewer,
    order_id: int,
    reason: str | None,
    refund_all: RefundAll,
    now: datetime,
) -> Order:
    """OrderCancel: the customer (or order staff) cancels an unpaid order, or a paid one
    before anything has shipped; NOT_FOUND for anyone else's."""
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON_LENGTH:
        raise fail(
            ErrorCode.INVALID, f"reason may have at most {MAX_REASON_LENGTH} characters", "reason"
        )
    order = access.require_visible(viewer, await transitions.lock(session, order_id), "id")
    who = "the customer" if order.user_id == viewer.user_id else "staff"
    why = f"by {who}: {reason}" if reason else f"by {who}"
    await cancel(session, order, Cancellation(why, by=viewer.user_id), refund_all, now, "id")
    return order
