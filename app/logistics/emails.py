"""What customers are told when a parcel of their order leaves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from app.logistics.models import Shipment
from app.notifications import Email, queue_email
from app.orders.emails import SIGNATURE
from app.orders.models import Order, OrderLine


def shipped(
    order: Order,
    shipment: Shipment,
    lines: Sequence[OrderLine],
    units: Mapping[int, int],
    tracking_url: str | None,
    everything: bool,
) -> Email:
    items = "\n".join(
        f"  {units[line.id]} x {line.product_name} ({line.variant_name})"
        for line in lines
        if line.id in units
    )
    follow = (
        f"Follow it here: {tracking_url}"
        if tracking_url
        else f"Its tracking number with {shipment.carrier} is {shipment.tracking_number}."
    )
    rest = "" if everything else "\n\nThe rest of your order follows in another parcel."
    text = (
        f"Good news: a parcel of your order {order.number} is on its way with "
        f"{shipment.carrier.upper()}.\n\n{items}\n\n{follow}{rest}{SIGNATURE}"
    )
    return Email(order.email, f"Order {order.number} has shipped", text, order.id)


def queue_shipped(session: AsyncSession, email: Email, now: datetime) -> None:
    queue_email(session, email, now)
