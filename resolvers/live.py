"""Live order updates: the order's news, to whoever may see the order (`orders.by_keys`).

Each stream subscribes before it checks access, so that nothing committed between the
check and the subscription is missed; a caller who may not see the order (or an id that
names nothing) gets NOT_FOUND and no update, whichever it is. Before each update the
connection's token is checked again: once it has expired or been revoked, the stream
ends with UNAUTHENTICATED instead of telling more.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing

from app import ids, live
from app.broker import Broker
from app.orders import access
from app.orders.models import Order
from app.orders.updates import TrackingNews
from resolvers.context import Context
from resolvers.orders import by_keys

FIELD = "orderId"


def _broker(ctx: Context) -> Broker:
    if ctx.broker is None:
        raise access.not_found(FIELD)
    return ctx.broker


async def _visible(ctx: Context, key: ids.OrderKey) -> Order:
    order = (await by_keys(ctx, [key]))[0]
    if order is None:
        raise access.not_found(FIELD)
    return order


async def _news(
    ctx: Context, order_id: str, channel: Callable[[Broker, int], str]
) -> AsyncGenerator[tuple[ids.OrderKey, bytes], None]:
    """Messages of one of the order's channels, to whoever may see the order, while the
    connection's token holds; subscribed before access is checked."""
    key = ids.ORDER.decode(order_id)
    broker = _broker(ctx)
    if key is None:
        raise access.not_found(FIELD)
    async with broker.subscribe(channel(broker, key.order_id)) as news:
        await _visible(ctx, key)
        async for message in news:
            await ctx.require_credential()
            yield key, message


async def order_changes(ctx: Context, order_id: str) -> AsyncGenerator[Order, None]:
    """The order as committed, each time its status or amount due changes (not at once:
    the client has read it already)."""
    async with aclosing(_news(ctx, order_id, live.changed_channel)) as news:
        async for key, _ in news:
            # Read afresh: this operation's loaders hold the order as it was.
            ctx.forget_loaded()
            yield await _visible(ctx, key)


async def tracking(ctx: Context, order_id: str) -> AsyncGenerator[TrackingNews, None]:
    """Carriers' events on the order's shipments, as they are stored."""
    async with aclosing(_news(ctx, order_id, live.tracking_channel)) as news:
        async for _, message in news:
            yield live.decode_tracking(message)
