"""Orders as the customer and the back office see them: lines, payments, refunds,
shipments and events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from app import ids
from app.logistics import status
from app.orders import models
from app.paging import Page
from resolvers import orders as resolve
from resolvers import payments as resolve_payments
from resolvers import returns as resolve_returns
from schema.accounts.types import Address
from schema.common import CtxInfo, Money, Node, PageInfo, node_id
from schema.payments.types import Payment, Refund

if TYPE_CHECKING:
    from schema.orders.returns import ReturnRequest

OrderStatus = strawberry.enum(
    models.OrderStatus,
    name="OrderStatus",
    description="UNPAID -> PAID -> PARTIALLY_SHIPPED -> SHIPPED -> DELIVERED -> COMPLETED; "
    "UNPAID or PAID -> CANCELLED.",
)
OrderEventType = strawberry.enum(models.OrderEventType, name="OrderEventType")


@strawberry.type
class OrderLine(Node):
    id: strawberry.ID
    sku: str
    product_name: str
    variant_name: str
    quantity: int
    unit_price: Money
    subtotal: Money
    discount_allocated: Money = strawberry.field(description="This line's share of discounts.")
    tax: Money
    total: Money
    quantity_shipped: int = strawberry.field(description="Units sent so far.")
    quantity_refunded: int = strawberry.field(
        description="Units whose money was given back so far (line refunds, returns, and "
        "every unit of a paid order cancelled)."
    )
    amount_refunded: Money = strawberry.field(
        description="What was given back for this line so far: what its refunded units "
        "cost, their discount and tax shares included."
    )

    @classmethod
    def from_model(cls, row: models.OrderLine, currency: str) -> OrderLine:
        return cls(
            id=node_id(ids.ORDER_LINE, row.id or 0),
            sku=row.sku,
            product_name=row.product_name,
            variant_name=row.variant_name,
            quantity=row.quantity,
            unit_price=Money.of(row.unit_price, currency),
            subtotal=Money.of(row.subtotal, currency),
            discount_allocated=Money.of(row.discount_allocated, currency),
            tax=Money.of(row.tax, currency),
            total=Money.of(row.total, currency),
            # Shipments do not exist yet.
            quantity_shipped=0,
            quantity_refunded=row.quantity_refunded,
            amount_refunded=Money.of(row.amount_refunded, currency),
        )


@strawberry.type
class OrderEvent:
    type: OrderEventType  # type: ignore[valid-type]
    message: str
    created_at: datetime

    @classmethod
    def from_model(cls, row: models.OrderEvent) -> OrderEvent:
        return cls(
            type=models.OrderEventType(row.type), message=row.message, created_at=row.created_at
        )


# Shipments are logistics' to fill; until then every order has none, and these types only
# say what an order's `shipments` will hold.
ShipmentStatus = strawberry.enum(status.ShipmentStatus, name="ShipmentStatus")


@strawberry.type
class ShipmentLine:
    order_line_id: strawberry.ID
    quantity: int


@strawberry.type
class ShipmentEvent:
    status: ShipmentStatus  # type: ignore[valid-type]
    location: str
    description: str
    occurred_at: datetime


@strawberry.type
class Shipment:
    id: strawberry.ID
    carrier: str
    tracking_number: str
    status: ShipmentStatus  # type: ignore[valid-type]
    shipped_at: datetime | None
    delivered_at: datetime | None
    lines: list[ShipmentLine]
    events: list[ShipmentEvent]


@strawberry.type
class Order(Node):
    id: strawberry.ID
    number: str
    status: OrderStatus  # type: ignore[valid-type]
    placed_at: datetime
    email: str
    note: str
    subtotal: Money
    discount_total: Money
    shipping_total: Money
    tax_total: Money
    total: Money
    amount_due: Money = strawberry.field(description="What is still to be paid.")
    total_refunded: Money = strawberry.field(
        description="Given back so far of what the order took (refunds pending at the "
        "gateway included). A payment the order never took (after cancellation, or beyond "
        "what was due) is refunded as an EXCESS refund and not counted here."
    )
    shipping_address: Address
    row: strawberry.Private[models.Order]

    @classmethod
    def from_model(cls, row: models.Order) -> Order:
        currency = row.currency
        assert row.id is not None
        return cls(
            id=node_id(ids.ORDER, ids.OrderKey.of(row.id, row.token)),
            number=row.number,
            status=models.OrderStatus(row.status),
            placed_at=row.placed_at,
            email=row.email,
            note=row.note,
            subtotal=Money.of(row.subtotal, currency),
            discount_total=Money.of(row.discount_total, currency),
            shipping_total=Money.of(row.shipping_total, currency),
            tax_total=Money.of(row.tax_total, currency),
            total=Money.of(row.total, currency),
            amount_due=Money.of(row.amount_due, currency),
            total_refunded=Money.of(row.total_refunded, currency),
            shipping_address=Address.of_order(row.id, row.shipping_address),
            row=row,
        )

    @strawberry.field
    async def lines(self, info: CtxInfo) -> list[OrderLine]:
        assert self.row.id is not None
        rows = await resolve.lines(info.context, self.row.id)
        return [OrderLine.from_model(row, self.row.currency) for row in rows]

    @strawberry.field(description="Every payment tried, in the order they were made.")
    async def payments(self, info: CtxInfo) -> list[Payment]:
        assert self.row.id is not None
        return [
            Payment.from_model(p)
            for p in await resolve_payments.payments(info.context, self.row.id)
        ]

    @strawberry.field
    async def refunds(self, info: CtxInfo) -> list[Refund]:
        assert self.row.id is not None
        return [
            Refund.from_model(r) for r in await resolve_payments.refunds(info.context, self.row.id)
        ]

    @strawberry.field(
        description="What the customer asked to send back, oldest first, and what staff decided."
    )
    async def return_requests(
        self, info: CtxInfo
    ) -> list[Annotated[ReturnRequest, strawberry.lazy("schema.orders.returns")]]:
        from schema.orders.returns import ReturnRequest

        assert self.row.id is not None
        rows = await resolve_returns.of_order(info.context, self.row.id)
        return [ReturnRequest.from_model(row) for row in rows]

    @strawberry.field(description="Parcels sent for this order (none until logistics).")
    def shipments(self) -> list[Shipment]:
        return []

    @strawberry.field(description="What happened to the order, oldest first.")
    async def events(self, info: CtxInfo) -> list[OrderEvent]:
        assert self.row.id is not None
        return [OrderEvent.from_model(e) for e in await resolve.events(info.context, self.row.id)]


@strawberry.type
class OrderEdge:
    cursor: str
    node: Order


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo
    # Counts the whole list, when asked (a customer's own, or the back office's).
    counter: strawberry.Private[Callable[[CtxInfo], Awaitable[int]]]

    @classmethod
    def from_page(
        cls, page: Page[models.Order], counter: Callable[[CtxInfo], Awaitable[int]]
    ) -> OrderConnection:
        return cls(
            edges=[
                OrderEdge(cursor=cursor, node=Order.from_model(row))
                for row, cursor in zip(page.items, page.cursors, strict=True)
            ],
            page_info=PageInfo.of(page),
            counter=counter,
        )

    @classmethod
    def of_customer(
        cls, page: Page[models.Order], user_id: int, since: datetime
    ) -> OrderConnection:
        return cls.from_page(
            page, lambda info: resolve.count_my_orders(info.context, user_id, since)
        )

    @strawberry.field(description="All the orders of the list (counted only when asked).")
    async def total_count(self, info: CtxInfo) -> int:
        return await self.counter(info)
