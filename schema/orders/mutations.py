"""What customers do with their orders: cancel, confirm receipt, hide from their list."""

from __future__ import annotations

import strawberry

from resolvers import orders as resolve
from schema.access import SIGNED_IN, mutation
from schema.common import CtxInfo, Payload
from schema.orders.types import Order


@strawberry.type
class OrderPayload(Payload):
    order: Order | None = None


@strawberry.type
class OrderMutation:
    @mutation(
        SIGNED_IN,
        "Cancel an unpaid order, or a paid one before anything has shipped: everything paid "
        "goes back where it came from (gift card, points, card), the stock back on the "
        "shelves and coupon uses back to their promotions. For the owner and staff who "
        "manage orders.",
    )
    async def order_cancel(
        self, info: CtxInfo, id: strawberry.ID, reason: str | None = None
    ) -> OrderPayload:
        return OrderPayload(order=Order.from_model(await resolve.cancel(info.context, id, reason)))

    @mutation(
        SIGNED_IN,
        "The parcel arrived: a shipped or delivered order completes, and its points are earned.",
    )
    async def order_confirm_receipt(self, info: CtxInfo, id: strawberry.ID) -> OrderPayload:
        return OrderPayload(order=Order.from_model(await resolve.confirm_receipt(info.context, id)))

    @mutation(
        SIGNED_IN,
        "Take an order off the customer's own list (me.orders); staff and the order keep it.",
    )
    async def order_hide(self, info: CtxInfo, id: strawberry.ID) -> OrderPayload:
        return OrderPayload(order=Order.from_model(await resolve.hide(info.context, id)))
