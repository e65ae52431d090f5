"""Which status may follow which: the one table of an order's life, and the one function
that moves an order along it.

Every move writes the event named after the status reached; anything the table does
not allow is INVALID_STATE. Shipping states are reached by logistics, payment by
`app.payments`, cancellation by `app.orders.cancellation` (customers, staff and the
expiry of unpaid orders), completion by `app.orders.completion`.

Whoever moves an order holds its row lock (`lock`), taken where the lock order of
`app.inventory.locking` puts orders: after the user and beside carts, before stock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import ErrorCode, fail
from app.orders import events, updates
from app.orders.models import Order, OrderEventType, OrderStatus

S = OrderStatus

ALLOWED: Mapping[OrderStatus, frozenset[OrderStatus]] = MappingProxyType(
    {
        S.UNPAID: frozenset({S.PAID, S.CANCELLED}),
        # Cancelled while nothing has left the warehouse; the money goes back in full.
        S.PAID: frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED, S.CANCELLED}),
        S.PARTIALLY_SHIPPED: frozenset({S.SHIPPED}),
        # The customer may confirm receipt before the carrier reports the delivery.
        S.SHIPPED: frozenset({S.DELIVERED, S.COMPLETED}),
        S.DELIVERED: frozenset({S.COMPLETED}),
        S.COMPLETED: frozenset(),
        S.CANCELLED: frozenset(),
    }
)

# The event each status is reached with.
EVENT: Mapping[OrderStatus, OrderEventType] = MappingProxyType(
    {status: OrderEventType(status.value) for status in OrderStatus if status is not S.UNPAID}
)


def allows(current: OrderStatus, target: OrderStatus) -> bool:
    return target in ALLOWED[current]


def sources(target: OrderStatus) -> frozenset[OrderStatus]:
    """Every status the table lets reach `target`."""
    return frozenset(s for s, targets in ALLOWED.items() if target in targets)


async def lock(session: AsyncSession, order_id: int) -> Order | None:
    """The order, locked until the transaction ends, as it is now."""
    return (
        await session.exec(
            select(Order)
            .where(Order.id == order_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).first()


def move(
    session: AsyncSession,
    order: Order,
    target: OrderStatus,
    message: str,
    now: datetime,
    *field: str,
) -> None:
    """Moves a locked order to `target` with its event; INVALID_STATE (at `field`) when the
    table does not allow it, and then nothing changes."""
    current = OrderStatus(order.status)
    if not allows(current, target):
        raise fail(
            ErrorCode.INVALID_STATE,
            f"the order is {_words(current)}: it cannot be {_words(target)}",
            *field,
        )
    assert order.id is not None
    order.status = target.value
    if target is S.DELIVERED or (target is S.COMPLETED and order.delivered_at is None):
        # Receipt confirmed before the carrier said so: that is when it was delivered (the
        # return window counts from it).
        order.delivered_at = now
    if target in (S.PAID, S.CANCELLED):
        order.amount_due = 0
    events.record(session, order.id, EVENT[target], message, now)
    updates.order_changed(session, order.id)


def _words(status: OrderStatus) -> str:
    return status.value.lower().replace("_", " ")
