"""Helpers for logistics tests: shipping an order's units, and the carriers' webhooks."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
import orjson

from app.signing import signed_headers
from tests.conftest import CARRIER_SECRET, Server
from tests.orders import Placed
from tests.shop import Shop

SHIPMENTS = """
query($id: ID!) { order(id: $id) {
  id status
  lines { id sku quantity quantityShipped quantityRefunded }
  shipments { id carrier trackingNumber trackingUrl status shippedAt deliveredAt
              estimatedDelivery { earliest latest }
              lines { orderLineId quantity }
              events { shipmentId status location description occurredAt } }
  events { type message }
} }
"""


async def shipments_of(server: Server, order: Placed | str, token: str | None) -> dict[str, Any]:
    """The order with its lines (`by_sku`) and shipments."""
    order_id = order.id if isinstance(order, Placed) else order
    seen = (await server.client.query(SHIPMENTS, {"id": order_id}, token=token)).data["order"]
    seen["by_sku"] = {line["sku"]: line for line in seen["lines"]}
    return seen  # type: ignore[no-any-return]


async def ship(
    server: Server,
    shop: Shop,
    order: Placed | str,
    warehouse: int | str,
    lines: list[tuple[str, int]],
    carrier: str = "dhl",
    number: str | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    """The payload of ShipmentCreate (staff by default); `lines`: (order line id, quantity);
    `warehouse`: an index into the shop's warehouses, or an id."""
    order_id = order.id if isinstance(order, Placed) else order
    warehouse_id = shop.warehouses[warehouse] if isinstance(warehouse, int) else warehouse
    result = await server.client.op(
        "ShipmentCreate",
        {
            "orderId": order_id,
            "input": {
                "warehouseId": warehouse_id,
                "carrier": carrier,
                "trackingNumber": number or f"TRK{uuid.uuid4().hex[:12].upper()}",
                "lines": [{"orderLineId": i, "quantity": q} for i, q in lines],
            },
        },
        token=token or shop.staff,
    )
    return result.data["shipmentCreate"]  # type: ignore[no-any-return]


def carrier_event(
    number: str,
    status: str,
    occurred_at: datetime | str,
    event_id: str | None = None,
    location: str = "Hamburg",
    description: str = "",
) -> bytes:
    return orjson.dumps(
        {
            "id": event_id or f"trk_{uuid.uuid4().hex}",
            "trackingNumber": number,
            "status": status,
            "location": location,
            "description": description or status.replace("_", " ").lower(),
            "occurredAt": occurred_at
            if isinstance(occurred_at, str)
            else occurred_at.isoformat().replace("+00:00", "Z"),
        }
    )


async def carrier_says(
    server: Server,
    body: bytes,
    carrier: str = "dhl",
    *,
    secret: str = CARRIER_SECRET,
    timestamp: int | None = None,
) -> httpx.Response:
    """POSTs a carrier's event signed as carriers sign them (the server's clock by default)."""
    when = timestamp if timestamp is not None else int(server.clock().timestamp())
    headers = {"content-type": "application/json", **signed_headers(secret, when, body)}
    return await server.client.http.post(
        f"/webhooks/carriers/{carrier}", content=body, headers=headers
    )
