"""Return requests: for the order's owner and staff who manage orders; the mutations'
service calls."""

from __future__ import annotations

from collections.abc import Sequence

from app.payments.lines import Units
from app.returns import requests
from app.returns.models import ReturnRequest, ReturnRequestLine
from resolvers.context import Context
from resolvers.orders import order_key, visible_orders


async def of_order(ctx: Context, order_id: int) -> list[ReturnRequest]:
    """The requests of an order the caller was shown (the order's visibility)."""
    return await ctx.loaders.returns_by_order.load(order_id)


async def lines(ctx: Context, request_id: int) -> list[ReturnRequestLine]:
    return await ctx.loaders.lines_by_return.load(request_id)


async def by_ids(ctx: Context, keys: Sequence[int]) -> list[ReturnRequest | None]:
    """To whoever sees their order: one batch each for them and their orders."""
    found = await ctx.loaders.return_request.load_many(keys)
    visible = await visible_orders(ctx, [r.order_id for r in found if r is not None])
    return [r if r is not None and r.order_id in visible else None for r in found]


async def create(ctx: Context, order_id: str, units: Sequence[Units], reason: str) -> ReturnRequest:
    viewer = await ctx.signed_in()
    key = order_key(order_id, "order_id")
    return await requests.request_return(
        await ctx.session(), viewer, key.order_id, units, reason,
        ctx.settings.return_window_days, ctx.now(),
    )  # fmt: skip


async def approve(
    ctx: Context, request_id: int, damaged: Sequence[Units], note: str | None
) -> ReturnRequest:
    viewer = await ctx.signed_in()
    return await requests.approve(
        await ctx.session(), ctx.refunder(), viewer, request_id, damaged, note, ctx.now()
    )


async def reject(ctx: Context, request_id: int, reason: str) -> ReturnRequest:
    viewer = await ctx.signed_in()
    return await requests.reject(await ctx.session(), viewer, request_id, reason, ctx.now())
