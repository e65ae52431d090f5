"""Shipments as the order's owner and staff see them, and tracking events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import strawberry

from app import ids
from app.logistics import models, status
from app.orders.updates import TrackingNews
from app.paging import Page
from resolvers import logistics as resolve
from schema.common import CtxInfo, Node, PageInfo, node_id

ShipmentStatus = strawberry.enum(
    status.ShipmentStatus,
    name="ShipmentStatus",
    description="PENDING until the carrier's first event; then what its latest event (by "
    "when it happened) says. EXCEPTION: the carrier reports a problem.",
)


@strawberry.type(description="Units of one order line in a parcel.")
class ShipmentLine:
    order_line_id: strawberry.ID
    quantity: int


@strawberry.type(description="What a carrier said of one of the order's parcels.")
class TrackingEvent:
    shipment_id: strawberry.ID
    status: ShipmentStatus  # type: ignore[valid-type]
    location: str
    description: str
    occurred_at: datetime

    @classmethod
    def from_news(cls, news: TrackingNews) -> TrackingEvent:
        return cls(
            shipment_id=node_id(ids.SHIPMENT, news.shipment_id),
            status=status.ShipmentStatus(news.status),
            location=news.location,
            description=news.description,
            occurred_at=news.occurred_at,
        )

    @classmethod
    def from_model(cls, row: models.ShipmentEvent) -> TrackingEvent:
        return cls(
            shipment_id=node_id(ids.SHIPMENT, row.shipment_id),
            status=status.ShipmentStatus(row.status),
            location=row.location,
            description=row.description,
            occurred_at=row.occurred_at,
        )


@strawberry.type(description="When the parcel should arrive, from the shipping method's days.")
class DeliveryEstimate:
    earliest: datetime
    latest: datetime


@strawberry.type(description="A parcel of an order: units of its lines sent from one warehouse.")
class Shipment(Node):
    id: strawberry.ID
    carrier: str
    tracking_number: str
    status: ShipmentStatus  # type: ignore[valid-type]
    shipped_at: datetime | None
    delivered_at: datetime | None = strawberry.field(
        description="When the carrier says it was delivered."
    )
    row: strawberry.Private[models.Shipment]

    @classmethod
    def from_model(cls, row: models.Shipment) -> Shipment:
        return cls(
            id=node_id(ids.SHIPMENT, row.id or 0),
            carrier=row.carrier,
            tracking_number=row.tracking_number,
            status=status.ShipmentStatus(row.status),
            shipped_at=row.shipped_at,
            delivered_at=row.delivered_at,
            row=row,
        )

    @strawberry.field(description="The carrier's page for this parcel, if it has one.")
    def tracking_url(self, info: CtxInfo) -> str | None:
        return resolve.tracking_url(info.context, self.row)

    @strawberry.field
    async def estimated_delivery(self, info: CtxInfo) -> DeliveryEstimate | None:
        found = await resolve.estimate(info.context, self.row)
        return DeliveryEstimate(earliest=found[0], latest=found[1]) if found else None

    @strawberry.field
    async def lines(self, info: CtxInfo) -> list[ShipmentLine]:
        return [
            ShipmentLine(order_line_id=node_id(ids.ORDER_LINE, line.order_line_id),
                         quantity=line.quantity)
            for line in await resolve.lines(info.context, self.row.id or 0)
        ]  # fmt: skip

    @strawberry.field(description="What the carrier said, in the order it happened.")
    async def events(self, info: CtxInfo) -> list[TrackingEvent]:
        return [
            TrackingEvent.from_model(e)
            for e in await resolve.events(info.context, self.row.id or 0)
        ]


@strawberry.type
class ShipmentEdge:
    cursor: str
    node: Shipment


@strawberry.type
class ShipmentConnection:
    edges: list[ShipmentEdge]
    page_info: PageInfo
    counter: strawberry.Private[Callable[[CtxInfo], Awaitable[int]]]

    @classmethod
    def from_page(
        cls, page: Page[models.Shipment], counter: Callable[[CtxInfo], Awaitable[int]]
    ) -> ShipmentConnection:
        return cls(
            edges=[
                ShipmentEdge(cursor=cursor, node=Shipment.from_model(row))
                for row, cursor in zip(page.items, page.cursors, strict=True)
            ],
            page_info=PageInfo.of(page),
            counter=counter,
        )

    @strawberry.field
    async def total_count(self, info: CtxInfo) -> int:
        return await self.counter(info)
