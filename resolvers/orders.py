"""Orders as their owners (and staff who manage orders) see them."""

from __future__ import annotations

from app.accounts.permissions import Permission, can_see
from app.orders.models import Order
from resolvers.context import Context


async def by_id(ctx: Context, order_id: int) -> Order | None:
    """An order by id: None when unknown or not the viewer's to see."""
    order = await ctx.loaders.order.load(order_id)
    if order is None or not can_see(await ctx.viewer(), order.user_id, Permission.MANAGE_ORDERS):
        return None
    return order
