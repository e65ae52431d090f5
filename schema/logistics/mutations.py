"""The back office's shipping: ShipmentCreate, and the list of parcels (those in trouble
first of all)."""

from __future__ import annotations

import strawberry

from app import ids
from app.accounts.permissions import Permission
from app.logistics import shipments
from app.logistics import status as domain
from resolvers import logistics as resolve
from schema.access import mutation, query, staff
from schema.common import CtxInfo, FirstArg, Payload, decode_id
from schema.logistics.types import Shipment, ShipmentConnection, ShipmentStatus
from schema.orders.types import Order


@strawberry.input(description="Units of one order line to send.")
class ShipmentLineInput:
    order_line_id: strawberry.ID
    quantity: int


@strawberry.input
class ShipmentInput:
    warehouse_id: strawberry.ID = strawberry.field(
        description="Where the parcel leaves from; units allocated to another warehouse at "
        "checkout are taken from this one's stock instead (and theirs go back)."
    )
    carrier: str = strawberry.field(description="A carrier code of the CARRIERS setting.")
    tracking_number: str = strawberry.field(description="Unique per carrier.")
    lines: list[ShipmentLineInput]

    def to_request(self) -> shipments.ShipmentRequest:
        return shipments.ShipmentRequest(
            warehouse_id=decode_id(self.warehouse_id, ids.WAREHOUSE, "input", "warehouse_id"),
            carrier=self.carrier,
            tracking_number=self.tracking_number,
            lines=[
                shipments.ShipUnits(
                    decode_id(line.order_line_id, ids.ORDER_LINE, "input", "lines", str(i),
                              "order_line_id"),
                    line.quantity,
                )
                for i, line in enumerate(self.lines)
            ],
        )  # fmt: skip


@strawberry.type
class ShipmentCreatePayload(Payload):
    shipment: Shipment | None = None
    order: Order | None = None


@strawberry.type
class LogisticsMutation:
    @mutation(
        staff(Permission.MANAGE_ORDERS),
        "Send units of a paid order in one parcel from one warehouse. The order becomes "
        "PARTIALLY_SHIPPED or SHIPPED and the customer is emailed the tracking link. More "
        "than is left to send, a warehouse without the units, an unpaid or cancelled "
        "order, or a tracking number the carrier used before is a userError.",
    )
    async def shipment_create(
        self, info: CtxInfo, order_id: strawberry.ID, input: ShipmentInput
    ) -> ShipmentCreatePayload:
        sent = await resolve.create(info.context, order_id, input.to_request())
        return ShipmentCreatePayload(
            shipment=Shipment.from_model(sent.shipment), order=Order.from_model(sent.order)
        )


@strawberry.type
class LogisticsQuery:
    @query(
        staff(Permission.MANAGE_ORDERS),
        "Parcels, newest first; `status: EXCEPTION` lists those a carrier reports in trouble.",
    )
    async def shipments(
        self,
        info: CtxInfo,
        first: FirstArg,
        after: str | None = None,
        status: ShipmentStatus | None = None,  # type: ignore[valid-type]
    ) -> ShipmentConnection:
        chosen = domain.ShipmentStatus(status) if status else None
        page = await resolve.all_shipments(info.context, chosen, first, after)
        return ShipmentConnection.from_page(
            page, lambda info: resolve.count_shipments(info.context, chosen)
        )
