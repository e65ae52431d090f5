"""An order moves on when its parcels do: SHIPPED once nothing is left to send,
DELIVERED once every parcel has arrived (and it completes later by itself,
`app.orders.completion`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.logistics.models import Shipment
from app.logistics.picking import to_ship
from app.orders import transitions
from app.orders.models import Order, OrderLine, OrderStatus


async def settle_delivery(session: AsyncSession, order: Order, now: datetime) -> bool:
    """A locked SHIPPED order whose every parcel has arrived becomes DELIVERED."""
    if order.status != OrderStatus.SHIPPED:
        return False
    waiting = (
        await session.exec(
            select(func.count())
            .select_from(Shipment)
            .where(Shipment.order_id == order.id, Shipment.delivered_at.is_(None))  # type: ignore[union-attr]
        )
    ).one()
    if waiting:
        return False
    transitions.move(session, order, OrderStatus.DELIVERED, "every parcel has arrived", now)
    return True


async def settle_after_refund(
    session: AsyncSession, order: Order, lines: Iterable[OrderLine], now: datetime
) -> None:
    """A locked, partly shipped order whose unsent units were all refunded has shipped
    everything it still owes: SHIPPED, and DELIVERED if those parcels have arrived."""
    if order.status != OrderStatus.PARTIALLY_SHIPPED or any(to_ship(line) for line in lines):
        return
    transitions.move(
        session, order, OrderStatus.SHIPPED, "the units not yet sent were refunded", now
    )
    await settle_delivery(session, order, now)
