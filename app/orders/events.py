"""An order's history: one event per thing that happened to it, each of a known type."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from app.orders.models import OrderEvent, OrderEventType


def record(
    session: AsyncSession, order_id: int, type: OrderEventType, message: str, now: datetime
) -> None:
    """Adds the event to the caller's transaction (written with its next flush)."""
    session.add(OrderEvent(order_id=order_id, type=type.value, message=message, created_at=now))
