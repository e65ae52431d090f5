"""Orders as the customer and the back office see them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app import ids
from app.orders import models
from schema.common import Money, Node, node_id

OrderStatus = strawberry.enum(models.OrderStatus, name="OrderStatus")


@strawberry.type
class Order(Node):
    id: strawberry.ID
    number: str
    status: OrderStatus  # type: ignore[valid-type]
    placed_at: datetime
    email: str
    subtotal: Money
    discount_total: Money
    shipping_total: Money
    tax_total: Money
    total: Money
    amount_due: Money
    row: strawberry.Private[models.Order]

    @classmethod
    def from_model(cls, row: models.Order) -> Order:
        currency = row.currency
        return cls(
            id=node_id(ids.ORDER, row.id or 0),
            number=row.number,
            status=models.OrderStatus(row.status),
            placed_at=row.placed_at,
            email=row.email,
            subtotal=Money.of(row.subtotal, currency),
            discount_total=Money.of(row.discount_total, currency),
            shipping_total=Money.of(row.shipping_total, currency),
            tax_total=Money.of(row.tax_total, currency),
            total=Money.of(row.total, currency),
            amount_due=Money.of(row.amount_due, currency),
            row=row,
        )
