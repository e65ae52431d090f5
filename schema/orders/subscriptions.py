"""Live order updates over WebSocket (graphql-transport-ws): the order as it changes, and
carriers' tracking events.

A subscriber that falls too far behind (SUBSCRIPTION_QUEUE_SIZE updates unread) is
dropped: its stream ends with a SUBSCRIPTION_LAGGED error, and the client resubscribes
(and reads the order again) rather than missing a step silently.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import TypeVar

import strawberry
from graphql import GraphQLError

from app.broker import Lagged
from resolvers import live as resolve
from schema.access import PUBLIC, subscription
from schema.common import CtxInfo
from schema.logistics.types import TrackingEvent
from schema.orders.types import Order

T = TypeVar("T")

LAGGED = "SUBSCRIPTION_LAGGED"


async def _until_lagged(stream: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
    async with aclosing(stream):
        try:
            async for item in stream:
                yield item
        except Lagged:
            raise GraphQLError(
                "too many updates went unread: subscribe again (and read the order again)",
                extensions={"code": LAGGED},
            ) from None


@strawberry.type
class OrderSubscription:
    @subscription(
        PUBLIC,
        "The order each time its status or amount due changes (nothing at once), for its "
        "owner and staff who manage orders; NOT_FOUND for anyone else.",
    )
    async def order_updated(
        self, info: CtxInfo, order_id: strawberry.ID
    ) -> AsyncGenerator[Order, None]:
        async with aclosing(_until_lagged(resolve.order_changes(info.context, order_id))) as rows:
            async for row in rows:
                yield Order.from_model(row)

    @subscription(
        PUBLIC,
        "Carriers' events on the order's shipments as they arrive, for its owner and staff "
        "who manage orders; NOT_FOUND for anyone else.",
    )
    async def order_tracking(
        self, info: CtxInfo, order_id: strawberry.ID
    ) -> AsyncGenerator[TrackingEvent, None]:
        async with aclosing(_until_lagged(resolve.tracking(info.context, order_id))) as events:
            async for news in events:
                yield TrackingEvent.from_news(news)
