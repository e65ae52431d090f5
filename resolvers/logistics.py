"""Shipments: to whoever sees their order (its owner, staff who manage orders); staff's
ShipmentCreate and list of parcels."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from app.logistics import lists, shipments
from app.logistics.models import Shipment, ShipmentEvent, ShipmentLine
from app.logistics.status import ShipmentStatus
from app.orders.models import Order
from app.paging import Page
from resolvers.context import Context
from resolvers.orders import order_key, visible_orders


async def of_order(ctx: Context, order_id: int) -> list[Shipment]:
    """The parcels of an order the caller was shown (the order's visibility)."""
    return await ctx.loaders.shipments_by_order.load(order_id)


async def lines(ctx: Context, shipment_id: int) -> list[ShipmentLine]:
    return await ctx.loaders.lines_by_shipment.load(shipment_id)


async def events(ctx: Context, shipment_id: int) -> list[ShipmentEvent]:
    return await ctx.loaders.events_by_shipment.load(shipment_id)


async def by_ids(ctx: Context, keys: Sequence[int]) -> list[Shipment | None]:
    """To whoever sees their order: one batch each for them and their orders."""
    found = await ctx.loaders.shipment.load_many(keys)
    visible = await visible_orders(ctx, [s.order_id for s in found if s is not None])
    return [s if s is not None and s.order_id in visible else None for s in found]


def tracking_url(ctx: Context, shipment: Shipment) -> str | None:
    return ctx.carriers.tracking_url(shipment.carrier, shipment.tracking_number)


async def delivery_days(ctx: Context, order_id: int) -> tuple[int, int] | None:
    """The shipping method's days from sending to delivery, as the order was placed with
    them (or as the method says now, for orders placed before they were kept)."""
    order: Order | None = await ctx.loaders.order.load(order_id)
    if order is None:
        return None
    method = order.shipping_method
    if "minDays" in method and "maxDays" in method:
        return int(method["minDays"]), int(method["maxDays"])
    current = (
        await ctx.loaders.shipping_method.load(int(method.get("id") or 0))
        if method.get("id")
        else None
    )
    return (current.min_days, current.max_days) if current is not None else None


async def estimate(ctx: Context, shipment: Shipment) -> tuple[datetime, datetime] | None:
    days = await delivery_days(ctx, shipment.order_id)
    if days is None:
        return None
    return shipment.shipped_at + timedelta(days=days[0]), shipment.shipped_at + timedelta(
        days=days[1]
    )


async def create(ctx: Context, order_id: str, request: shipments.ShipmentRequest) -> shipments.Sent:
    viewer = await ctx.signed_in()
    key = order_key(order_id, "order_id")
    return await shipments.create(
        await ctx.session(), ctx.carriers, key.order_id, request, viewer.user_id, ctx.now()
    )


async def all_shipments(
    ctx: Context, status: ShipmentStatus | None, first: int, after: str | None
) -> Page[Shipment]:
    return await lists.page(ctx.db, status, first, after)


async def count_shipments(ctx: Context, status: ShipmentStatus | None) -> int:
    return await lists.count(ctx.db, status)
