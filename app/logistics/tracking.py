"""Carrier events: each applied once, a shipment's status taken from its latest event by
when it happened (events arrive late, twice and out of order).

DELIVERED marks the parcel delivered (when the first such event happened), and
the order DELIVERED once every parcel is; EXCEPTION is recorded on the order for
the customer and staff to see. Every new event is announced to the order's
subscribers after commit (`app.orders.updates`).

Lock order: the order, before its shipment and events (`app.inventory.locking`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.database import upsert
from app.logistics.carrier_events import CarrierEvent
from app.logistics.delivery import settle_delivery
from app.logistics.models import Shipment, ShipmentEvent
from app.logistics.status import ShipmentStatus
from app.orders import events, transitions
from app.orders.models import OrderEventType
from app.orders.updates import TrackingNews, tracking_event

log = logging.getLogger("commerce.logistics")


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # this event id was applied before
    UNKNOWN = "unknown"  # no parcel of ours has this tracking number (acknowledged)


async def _shipment(
    session: AsyncSession, carrier: str, number: str, lock: bool = False
) -> Shipment | None:
    statement = select(Shipment).where(
        Shipment.carrier == carrier, Shipment.tracking_number == number
    )
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return (await session.exec(statement)).first()


async def apply(session: AsyncSession, carrier: str, event: CarrierEvent, now: datetime) -> Outcome:
    found = await _shipment(session, carrier, event.tracking_number)
    if found is None:
        log.warning("carrier %s event %s for unknown tracking number ignored", carrier, event.id)
        return Outcome.UNKNOWN
    order = await transitions.lock(session, found.order_id)
    shipment = await _shipment(session, carrier, event.tracking_number, lock=True)
    if order is None or shipment is None or order.id is None or shipment.id is None:
        return Outcome.UNKNOWN  # deleted meanwhile
    stored = (
        await session.exec(  # type: ignore[call-overload]
            upsert(session)(ShipmentEvent)
            .values(
                shipment_id=shipment.id, carrier=carrier, event_id=event.id,
                status=event.status.value, location=event.location,
                description=event.description, occurred_at=event.occurred_at,
                received_at=now,
            )
            .on_conflict_do_nothing(index_elements=["carrier", "event_id"])
            .returning(ShipmentEvent.id)
        )
    ).scalar_one_or_none()  # fmt: skip
    if stored is None:
        return Outcome.DUPLICATE
    latest = shipment.status_at is None or event.occurred_at >= shipment.status_at
    if latest:
        shipment.status, shipment.status_at = event.status.value, event.occurred_at
    where = f" at {event.location}" if event.location else ""
    label = f"{shipment.carrier} {shipment.tracking_number}"
    if event.status is ShipmentStatus.DELIVERED and (
        shipment.delivered_at is None or event.occurred_at < shipment.delivered_at
    ):
        first = shipment.delivered_at is None
        shipment.delivered_at = event.occurred_at
        if first:
            events.record(session, order.id, OrderEventType.SHIPMENT_DELIVERED,
                          f"parcel {label} delivered{where}", now)  # fmt: skip
    if event.status is ShipmentStatus.EXCEPTION and latest:
        events.record(
            session, order.id, OrderEventType.SHIPMENT_EXCEPTION,
            f"parcel {label}: {event.description or 'the carrier reports a problem'}{where}",
            now,
        )  # fmt: skip
    await session.flush()
    tracking_event(
        session,
        TrackingNews(
            order_id=order.id, shipment_id=shipment.id, status=event.status.value,
            location=event.location, description=event.description,
            occurred_at=event.occurred_at,
        ),
    )  # fmt: skip
    await settle_delivery(session, order, now)
    return Outcome.APPLIED
