"""Orders as their owners (and staff who manage orders) see them, and what customers do
with them: cancel, confirm receipt, hide."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from app import ids
from app.accounts.permissions import Viewer
from app.loyalty.points import PointsRates
from app.orders import access, admin, cancellation, completion, history
from app.orders.models import Order, OrderEvent, OrderLine
from app.paging import Page
from app.payments import lines as line_refunds
from app.payments.models import Refund
from resolvers.context import Context
from resolvers.guesses import guarded


def order_key(global_id: str, *field: str) -> ids.OrderKey:
    key = ids.ORDER.decode(global_id)
    if key is None:
        raise access.not_found(*field)
    return key


async def by_keys(ctx: Context, keys: Sequence[ids.OrderKey]) -> list[Order | None]:
    """Orders to their owner and to staff who manage orders; None for anyone else."""
    viewer = await ctx.viewer()
    found = await ctx.loaders.order.load_many([key.order_id for key in keys])
    return [order if access.visible(viewer, order) else None for order in found]


async def by_id(ctx: Context, global_id: str) -> Order | None:
    key = ids.ORDER.decode(global_id)
    return (await by_keys(ctx, [key]))[0] if key is not None else None


async def visible_orders(ctx: Context, order_ids: Sequence[int]) -> dict[int, Order]:
    orders = await by_keys(ctx, [ids.OrderKey(order_id) for order_id in order_ids])
    return {order.id: order for order in orders if order is not None and order.id is not None}


async def lines_by_ids(ctx: Context, keys: Sequence[int]) -> list[tuple[OrderLine, Order] | None]:
    """Order lines with their orders, as the orders are seen: one batch each for the lines
    and their orders."""
    lines = await ctx.loaders.order_line.load_many(keys)
    visible = await visible_orders(ctx, [line.order_id for line in lines if line is not None])
    return [
        (line, visible[line.order_id]) if line is not None and line.order_id in visible else None
        for line in lines
    ]


async def addresses_by_ids(ctx: Context, keys: Sequence[int]) -> list[Order | None]:
    """The orders whose shipping addresses these are, as the orders are seen."""
    return await by_keys(ctx, [ids.OrderKey(key) for key in keys])


async def lines(ctx: Context, order_id: int) -> list[OrderLine]:
    return await ctx.loaders.lines_by_order.load(order_id)


async def events(ctx: Context, order_id: int) -> list[OrderEvent]:
    return await ctx.loaders.events_by_order.load(order_id)


async def by_number(ctx: Context, number: str, email: str) -> Order | None:
    """A guest's way to their order; every miss counts against the caller (`guesses`)."""
    return await guarded(ctx, "order-number", lambda: history.find_by_number(ctx.db, number, email))


async def my_orders(
    ctx: Context, viewer: Viewer, first: int, after: str | None, since: datetime
) -> Page[Order]:
    return await history.customer_orders(ctx.db, viewer.user_id, since, first, after)


def default_since(ctx: Context) -> datetime:
    return history.months_before(ctx.now(), history.DEFAULT_MONTHS)


async def count_my_orders(ctx: Context, user_id: int, since: datetime) -> int:
    return await history.count_customer_orders(ctx.db, user_id, since)


async def cancel(ctx: Context, global_id: str, reason: str | None) -> Order:
    viewer = await ctx.signed_in()
    key = order_key(global_id, "id")
    return await cancellation.cancel_for(
        await ctx.session(), viewer, key.order_id, reason, ctx.refunder().refund_in_full, ctx.now()
    )


async def confirm_receipt(ctx: Context, global_id: str) -> Order:
    viewer = await ctx.signed_in()
    key = order_key(global_id, "id")
    rates = PointsRates.from_settings(ctx.settings)
    return await completion.confirm_receipt(
        await ctx.session(), viewer, key.order_id, rates, ctx.now()
    )


async def hide(ctx: Context, global_id: str) -> Order:
    viewer = await ctx.signed_in()
    key = order_key(global_id, "id")
    return await history.hide(await ctx.session(), viewer, key.order_id, ctx.now())


async def all_orders(
    ctx: Context, chosen: admin.OrderFilter, first: int, after: str | None
) -> Page[Order]:
    return await admin.all_orders(ctx.db, chosen, first, after)


async def count_all_orders(ctx: Context, chosen: admin.OrderFilter) -> int:
    return await admin.count_orders(ctx.db, chosen)


async def refund(
    ctx: Context, global_id: str, request: line_refunds.RefundRequest
) -> tuple[Order, Refund | None]:
    viewer = await ctx.signed_in()
    key = order_key(global_id, "order_id")
    return await line_refunds.refund_for_staff(
        await ctx.session(), ctx.refunder(), key.order_id, request, viewer.user_id, ctx.now()
    )
