"""Order news on the broker: which channel carries what, and the after-commit handlers that
publish it (wired by `Services.open`; the domain announces through `app.orders.updates` and
knows nothing of the broker).

An order's `changed` channel carries only its id: subscribers read the order again, from
the database, where the commit that announced it is already visible. Its `tracking`
channel carries the carrier's event itself (JSON), since it is the news.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import orjson

from app.broker import Broker
from app.database import Database
from app.orders.updates import ORDER_CHANGED, TRACKING, TrackingNews


def changed_channel(broker: Broker, order_id: int) -> str:
    return broker.channel("order", order_id, "changed")


def tracking_channel(broker: Broker, order_id: int) -> str:
    return broker.channel("order", order_id, "tracking")


def encode_tracking(news: TrackingNews) -> bytes:
    return orjson.dumps(
        {
            "orderId": news.order_id,
            "shipmentId": news.shipment_id,
            "status": str(news.status),
            "location": news.location,
            "description": news.description,
            "occurredAt": news.occurred_at.isoformat(),
        }
    )


def decode_tracking(message: bytes) -> TrackingNews:
    data = orjson.loads(message)
    return TrackingNews(
        order_id=int(data["orderId"]),
        shipment_id=int(data["shipmentId"]),
        status=str(data["status"]),
        location=str(data["location"]),
        description=str(data["description"]),
        occurred_at=datetime.fromisoformat(data["occurredAt"]),
    )


def wire(db: Database, broker: Broker) -> None:
    """Publishes what committed transactions announce; the handlers only queue messages."""

    async def changed(order_ids: Sequence[int]) -> None:
        # One transaction may announce an order several times (paid, then refunded the excess).
        for order_id in dict.fromkeys(order_ids):
            broker.publish(changed_channel(broker, order_id), str(order_id).encode())

    async def tracking(items: Sequence[TrackingNews]) -> None:
        for news in items:
            broker.publish(tracking_channel(broker, news.order_id), encode_tracking(news))

    db.on_signal(ORDER_CHANGED, changed)  # type: ignore[arg-type]
    db.on_signal(TRACKING, tracking)  # type: ignore[arg-type]
