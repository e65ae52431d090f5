"""Cancelling an order: its status (through the transition table), its stock back on the
shelves (but the units refunded and restocked before), its coupon uses given back,
everything paid given back (what line refunds gave back before is not paid twice),
and an email to the customer.

The money is given back by whatever `RefundAll` the caller passes
(`app.payments.refunds.Refunder`): orders know nothing of tenders and gateways.
Lock order (`app.inventory.locking`): the order (locked by the caller), its stock
rows, its promotions, then whatever the refund locks (gift cards, points).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.permissions import Viewer
from app.errors import ErrorCode, fail
from app.inventory.returns import ReturnedUnits, return_units
from app.orders import access, emails, transitions
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
    paid = order.status == OrderStatus.PAID
    transitions.move(
        session, order, OrderStatus.CANCELLED, f"cancelled: {cancellation.reason}", now, *field
    )
    assert order.id is not None
    lines = (
        await session.exec(
            select(OrderLine)
            .where(OrderLine.order_id == order.id)
            .execution_options(populate_existing=True)
        )
    ).all()
    # Units refunded before (and put back then) are on the shelves already.
    await return_units(
        session,
        [
            ReturnedUnits(line.allocations, line.quantity - line.quantity_restocked,
                          earlier=line.quantity_restocked)
            for line in lines
            if line.quantity > line.quantity_restocked
        ],
    )  # fmt: skip
    await give_back(session, order.id)
    refunded = await refund_all(session, order, cancellation, now)
    # Every unit is back, and for a paid order every unit's money too: what line refunds
    # gave back before, and what the refund of everything left gave back now.
    done: dict[str, object] = {"quantity_restocked": col(OrderLine.quantity)}
    if paid:
        done.update(quantity_refunded=col(OrderLine.quantity), amount_refunded=col(OrderLine.total))
        order.shipping_refunded = order.shipping_total + order.shipping_tax
    await session.exec(  # type: ignore[call-overload]
        update(OrderLine)
        .where(col(OrderLine.order_id) == order.id)
        .values(done)
        .execution_options(synchronize_session=False)
    )
    emails.order_cancelled(session, order, cancellation.reason, refunded, now)


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
