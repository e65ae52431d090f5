"""The back office's orders: every order, listed and filtered, and refunds."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app import ids
from app.accounts.permissions import Permission
from app.orders import admin, models
from app.payments.lines import RefundRequest, Units
from resolvers import orders as resolve
from schema.access import mutation, query, staff
from schema.common import CtxInfo, FirstArg, Payload, decode_id
from schema.orders.types import Order, OrderConnection, OrderStatus
from schema.payments.types import Refund


@strawberry.input(description="Units of one order line to refund.")
class RefundLineInput:
    order_line_id: strawberry.ID
    quantity: int


@strawberry.input
class RefundInput:
    lines: list[RefundLineInput] = strawberry.field(
        default_factory=list,
        description="Units to give back; each gives back what it cost (its price less its "
        "discount share plus its tax share).",
    )
    include_shipping: bool = strawberry.field(
        default=False, description="Give back the shipping (with its tax) too; once per order."
    )
    reason: str | None = None

    def to_request(self) -> RefundRequest:
        return RefundRequest(
            lines=[
                Units(
                    decode_id(line.order_line_id, ids.ORDER_LINE, "input", "lines", str(i),
                              "order_line_id"),
                    line.quantity,
                )
                for i, line in enumerate(self.lines)
            ],
            include_shipping=self.include_shipping,
            reason=self.reason or "",
        )  # fmt: skip


@strawberry.input(description="Every condition given must hold.")
class OrderFilter:
    status: OrderStatus | None = None  # type: ignore[valid-type]
    email: str | None = strawberry.field(
        default=None, description="The email the order was placed with (any case)."
    )
    placed_from: datetime | None = strawberry.field(
        default=None, description="Placed at or after this."
    )
    placed_to: datetime | None = strawberry.field(default=None, description="Placed before this.")

    def to_filter(self) -> admin.OrderFilter:
        return admin.OrderFilter(
            status=models.OrderStatus(self.status) if self.status else None,
            email=self.email,
            placed_from=self.placed_from,
            placed_to=self.placed_to,
        )


@strawberry.type
class OrderRefundPayload(Payload):
    refund: Refund | None = strawberry.field(
        default=None, description="Null when what was refunded cost nothing."
    )
    order: Order | None = None


@strawberry.type
class OrderAdminMutation:
    @mutation(
        staff(Permission.MANAGE_ORDERS),
        "Give back units of an order's lines, and the shipping if asked: each unit what it "
        "cost, never more than was paid (AMOUNT_EXCEEDED). The money goes back through the "
        "tenders that paid: points first, then gift cards, then the card (through the "
        "gateway). Units of an order not yet shipped go back on the shelves.",
    )
    async def order_refund(
        self, info: CtxInfo, order_id: strawberry.ID, input: RefundInput
    ) -> OrderRefundPayload:
        order, refund = await resolve.refund(info.context, order_id, input.to_request())
        return OrderRefundPayload(
            refund=Refund.from_model(refund) if refund is not None else None,
            order=Order.from_model(order),
        )


@strawberry.type
class OrderAdminQuery:
    @query(
        staff(Permission.MANAGE_ORDERS),
        "Every order, newest first, hidden ones included.",
    )
    async def orders(
        self,
        info: CtxInfo,
        first: FirstArg,
        after: str | None = None,
        filter: OrderFilter | None = None,
    ) -> OrderConnection:
        chosen = filter.to_filter() if filter else admin.OrderFilter()
        page = await resolve.all_orders(info.context, chosen, first, after)
        return OrderConnection.from_page(
            page, lambda info: resolve.count_all_orders(info.context, chosen)
        )
