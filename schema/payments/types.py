"""Payments, refunds, gift cards and the gateway's notifications."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app import ids, signing
from app.giftcards import models as giftcards
from app.payments import models
from resolvers import payments as resolve
from schema.common import CtxInfo, Money, Node, PageInfo, node_id

PaymentMethod = strawberry.enum(
    models.PaymentMethod,
    name="PaymentMethod",
    description="CARD through the payment gateway; GIFT_CARD and POINTS, the shop's own "
    "tenders, applied at once.",
)
PaymentStatus = strawberry.enum(
    models.PaymentStatus,
    name="PaymentStatus",
    description="A card payment is PENDING until the gateway's signed webhook says how it "
    "went; what a client says never changes it.",
)
RefundStatus = strawberry.enum(models.RefundStatus, name="RefundStatus")
RefundKind = strawberry.enum(models.RefundKind, name="RefundKind")
NotificationState = strawberry.enum(models.NotificationState, name="PaymentNotificationState")
SignatureVerdict = strawberry.enum(signing.SignatureVerdict, name="SignatureVerdict")


@strawberry.type
class Payment(Node):
    id: strawberry.ID
    method: PaymentMethod  # type: ignore[valid-type]
    status: PaymentStatus  # type: ignore[valid-type]
    amount: Money
    refunded: Money = strawberry.field(description="Given back so far, pending or done.")
    provider_reference: str | None = strawberry.field(
        description="CARD: the gateway's reference of the payment."
    )
    client_secret: str | None = strawberry.field(
        description="CARD: what the client completes the payment with at the gateway; only "
        "in the payload of paymentCreate, never stored."
    )
    points: int | None = strawberry.field(description="POINTS: how many were spent.")
    created_at: datetime
    settled_at: datetime | None = strawberry.field(description="When it succeeded or failed.")

    @classmethod
    def from_model(cls, row: models.Payment, client_secret: str | None = None) -> Payment:
        return cls(
            id=node_id(ids.PAYMENT, row.id or 0),
            method=models.PaymentMethod(row.method),
            status=models.PaymentStatus(row.status),
            amount=Money.of(row.amount, row.currency),
            refunded=Money.of(row.refunded, row.currency),
            provider_reference=row.provider_reference,
            client_secret=client_secret,
            points=row.points,
            created_at=row.created_at,
            settled_at=row.settled_at,
        )


@strawberry.type(description="The part of a refund that goes back through one payment.")
class RefundAllocation:
    method: PaymentMethod  # type: ignore[valid-type]
    amount: Money
    status: RefundStatus  # type: ignore[valid-type]

    @classmethod
    def from_model(cls, row: models.RefundAllocation, currency: str) -> RefundAllocation:
        return cls(
            method=models.PaymentMethod(row.method),
            amount=Money.of(row.amount, currency),
            status=models.RefundStatus(row.status),
        )


@strawberry.type(description="Units of one order line a refund gave back.")
class RefundLine:
    order_line_id: strawberry.ID
    quantity: int
    amount: Money = strawberry.field(
        description="What these units cost: their price less their share of the line's "
        "discount plus their share of its tax."
    )

    @classmethod
    def from_model(cls, row: models.RefundLine, currency: str) -> RefundLine:
        return cls(
            order_line_id=node_id(ids.ORDER_LINE, row.order_line_id),
            quantity=row.quantity,
            amount=Money.of(row.amount, currency),
        )


@strawberry.type
class Refund(Node):
    id: strawberry.ID
    kind: RefundKind  # type: ignore[valid-type]
    status: RefundStatus  # type: ignore[valid-type]
    amount: Money
    shipping: Money = strawberry.field(
        description="The part of the amount that gave back the shipping (with its tax)."
    )
    reason: str
    created_at: datetime
    completed_at: datetime | None
    pk: strawberry.Private[int]
    currency: strawberry.Private[str]

    @classmethod
    def from_model(cls, row: models.Refund) -> Refund:
        return cls(
            id=node_id(ids.REFUND, row.id or 0),
            kind=models.RefundKind(row.kind),
            status=models.RefundStatus(row.status),
            amount=Money.of(row.amount, row.currency),
            shipping=Money.of(row.shipping, row.currency),
            reason=row.reason,
            created_at=row.created_at,
            completed_at=row.completed_at,
            pk=row.id or 0,
            currency=row.currency,
        )

    @strawberry.field(description="How the refund is split over the payments it goes back to.")
    async def allocations(self, info: CtxInfo) -> list[RefundAllocation]:
        rows = await resolve.allocations(info.context, self.pk)
        return [RefundAllocation.from_model(row, self.currency) for row in rows]

    @strawberry.field(
        description="The units of order lines it gave back (none for a cancellation, which "
        "gives back everything left, or an excess payment)."
    )
    async def lines(self, info: CtxInfo) -> list[RefundLine]:
        rows = await resolve.refund_lines(info.context, self.pk)
        return [RefundLine.from_model(row, self.currency) for row in rows]


@strawberry.type
class GiftCard(Node):
    id: strawberry.ID
    code: str
    balance: Money
    initial_balance: Money
    expires_at: datetime | None
    created_at: datetime

    @classmethod
    def from_model(cls, row: giftcards.GiftCard) -> GiftCard:
        return cls(
            id=node_id(ids.GIFT_CARD, row.id or 0),
            code=row.code,
            balance=Money.of(row.balance, row.currency),
            initial_balance=Money.of(row.initial_balance, row.currency),
            expires_at=row.expires_at,
            created_at=row.created_at,
        )


@strawberry.type(description="A notification from the payment gateway, as it was received.")
class PaymentNotification(Node):
    id: strawberry.ID
    provider: str
    signature: SignatureVerdict  # type: ignore[valid-type]
    state: NotificationState  # type: ignore[valid-type]
    event_id: str | None
    event_type: str | None
    reference: str | None
    body: str = strawberry.field(description="The body as received (invalid UTF-8 replaced).")
    error: str = strawberry.field(description="Why it was refused, ignored or failed.")
    attempts: int
    received_at: datetime
    processed_at: datetime | None

    @classmethod
    def from_model(cls, row: models.PaymentNotification) -> PaymentNotification:
        return cls(
            id=node_id(ids.PAYMENT_NOTIFICATION, row.id or 0),
            provider=row.provider,
            signature=signing.SignatureVerdict(row.signature),
            state=models.NotificationState(row.state),
            event_id=row.event_id,
            event_type=row.event_type,
            reference=row.reference,
            body=bytes(row.body).decode("utf-8", errors="replace"),
            error=row.error,
            attempts=row.attempts,
            received_at=row.received_at,
            processed_at=row.processed_at,
        )


@strawberry.type
class PaymentNotificationEdge:
    cursor: str
    node: PaymentNotification


@strawberry.type
class PaymentNotificationConnection:
    edges: list[PaymentNotificationEdge]
    page_info: PageInfo
