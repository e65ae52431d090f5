"""Order queries: one order by id, and a guest's order by its number and email."""

from __future__ import annotations

import strawberry

from resolvers import orders as resolve
from schema.access import PUBLIC, query
from schema.common import CtxInfo
from schema.orders.types import Order


@strawberry.type
class OrderQuery:
    @query(PUBLIC, "An order, for its owner and staff who manage orders; null for anyone else.")
    async def order(self, info: CtxInfo, id: strawberry.ID) -> Order | None:
        row = await resolve.by_id(info.context, id)
        return Order.from_model(row) if row else None

    @query(
        PUBLIC,
        "A guest's way to their order: by its number and the email it was placed with; null "
        "when either does not match. Failed lookups are limited per client.",
    )
    async def order_by_number(self, info: CtxInfo, number: str, email: str) -> Order | None:
        row = await resolve.by_number(info.context, number, email)
        return Order.from_model(row) if row else None
