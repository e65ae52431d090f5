"""Returns: what a customer asks to send back, and staff's decision."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from app import ids
from app.accounts.permissions import Permission
from app.payments.lines import Units
from app.returns import models
from resolvers import returns as resolve
from schema.access import SIGNED_IN, mutation, staff
from schema.common import CtxInfo, Node, Payload, decode_id, node_id

if TYPE_CHECKING:
    from schema.payments.types import Refund

ReturnRequestStatus = strawberry.enum(
    models.ReturnStatus,
    name="ReturnRequestStatus",
    description="REQUESTED until staff approve (the units are refunded) or reject it.",
)


@strawberry.input(description="Units of one order line.")
class ReturnLineInput:
    order_line_id: strawberry.ID
    quantity: int


def units_of(items: list[ReturnLineInput] | None, *field: str) -> list[Units]:
    """The lines as the services take them; NOT_FOUND (at `field`, index) for an id that is
    not an order line's."""
    return [
        Units(decode_id(item.order_line_id, ids.ORDER_LINE, *field, str(i), "order_line_id"),
              item.quantity)
        for i, item in enumerate(items or [])
    ]  # fmt: skip


@strawberry.type
class ReturnRequestLine:
    order_line_id: strawberry.ID
    quantity: int
    damaged: int = strawberry.field(
        description="Of these units, how many came back damaged: refunded, not put back on "
        "the shelves."
    )

    @classmethod
    def from_model(cls, row: models.ReturnRequestLine) -> ReturnRequestLine:
        return cls(
            order_line_id=node_id(ids.ORDER_LINE, row.order_line_id),
            quantity=row.quantity,
            damaged=row.damaged,
        )


@strawberry.type(description="Units of a delivered order the customer asks to send back.")
class ReturnRequest(Node):
    id: strawberry.ID
    status: ReturnRequestStatus  # type: ignore[valid-type]
    reason: str = strawberry.field(description="The customer's.")
    note: str = strawberry.field(
        description="Staff's note on approving, or why they rejected it (the customer is told)."
    )
    created_at: datetime
    decided_at: datetime | None
    pk: strawberry.Private[int]
    refund_id: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, row: models.ReturnRequest) -> ReturnRequest:
        return cls(
            id=node_id(ids.RETURN_REQUEST, row.id or 0),
            status=models.ReturnStatus(row.status),
            reason=row.reason,
            note=row.note,
            created_at=row.created_at,
            decided_at=row.decided_at,
            pk=row.id or 0,
            refund_id=row.refund_id,
        )

    @strawberry.field
    async def lines(self, info: CtxInfo) -> list[ReturnRequestLine]:
        return [
            ReturnRequestLine.from_model(row) for row in await resolve.lines(info.context, self.pk)
        ]

    @strawberry.field(description="The refund its approval made.")
    async def refund(
        self, info: CtxInfo
    ) -> Annotated[Refund, strawberry.lazy("schema.payments.types")] | None:
        from resolvers import payments as resolve_payments
        from schema.payments.types import Refund

        if self.refund_id is None:
            return None
        (row,) = await resolve_payments.refunds_by_ids(info.context, [self.refund_id])
        return Refund.from_model(row) if row is not None else None


@strawberry.type
class ReturnRequestPayload(Payload):
    return_request: ReturnRequest | None = None


@strawberry.type
class ReturnMutation:
    @mutation(
        SIGNED_IN,
        "Ask to send back units of a delivered order, within the return window (days after "
        "delivery), saying why. For the order's owner (and staff who manage orders).",
    )
    async def return_request_create(
        self, info: CtxInfo, order_id: strawberry.ID, lines: list[ReturnLineInput], reason: str
    ) -> ReturnRequestPayload:
        row = await resolve.create(info.context, order_id, units_of(lines, "lines"), reason)
        return ReturnRequestPayload(return_request=ReturnRequest.from_model(row))

    @mutation(
        staff(Permission.MANAGE_ORDERS),
        "Approve a return: its units are refunded through the tenders that paid (points, then "
        "gift cards, then the card), and those not `damaged` go back on the shelves.",
    )
    async def return_request_approve(
        self,
        info: CtxInfo,
        id: strawberry.ID,
        damaged: Annotated[
            list[ReturnLineInput] | None,
            strawberry.argument(
                description="Units that came back damaged: refunded, not put back on the "
                "shelves. Default: none."
            ),
        ] = None,
        note: str | None = None,
    ) -> ReturnRequestPayload:
        key = decode_id(id, ids.RETURN_REQUEST, "id")
        row = await resolve.approve(info.context, key, units_of(damaged, "damaged"), note)
        return ReturnRequestPayload(return_request=ReturnRequest.from_model(row))

    @mutation(
        staff(Permission.MANAGE_ORDERS),
        "Reject a return; the customer is told `reason` by email.",
    )
    async def return_request_reject(
        self, info: CtxInfo, id: strawberry.ID, reason: str
    ) -> ReturnRequestPayload:
        key = decode_id(id, ids.RETURN_REQUEST, "id")
        row = await resolve.reject(info.context, key, reason)
        return ReturnRequestPayload(return_request=ReturnRequest.from_model(row))
