"""Payment tables: payments per order and tender, refunds with their allocations per
payment, and the inbox of the gateway's notifications."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
)
from sqlmodel import Field, SQLModel

from app.columns import BigKey, UTCDateTime, utcnow


class PaymentMethod(StrEnum):
    CARD = "CARD"  # through the payment gateway; its webhooks decide the outcome
    GIFT_CARD = "GIFT_CARD"  # the shop's own tenders, applied at once
    POINTS = "POINTS"


class PaymentStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class Payment(SQLModel, table=True):
    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("refunded >= 0 AND refunded <= amount", name="refunded_within_amount"),
        Index("uq_payment_provider_reference", "provider", "provider_reference", unique=True),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    order_id: int = Field(
        sa_column=Column(BigKey, ForeignKey("shop_order.id"), nullable=False, index=True)
    )
    method: str = Field(max_length=16)  # a PaymentMethod
    status: str = Field(max_length=16)  # a PaymentStatus
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    # Given back so far, by refunds pending or done (`RefundAllocation`); never more than paid.
    refunded: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    # CARD: the gateway that took it and its reference there.
    provider: str | None = Field(default=None, sa_column=Column(String(40)))
    provider_reference: str | None = Field(default=None, sa_column=Column(String(200)))
    gift_card_id: int | None = Field(
        default=None, sa_column=Column(BigKey, ForeignKey("gift_card.id"))
    )
    points: int | None = Field(default=None, sa_column=Column(BigInteger))  # POINTS: spent
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    # When it succeeded or failed.
    settled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))

    @property
    def refundable(self) -> int:
        return self.amount - self.refunded if self.status == PaymentStatus.SUCCEEDED else 0


class RefundKind(StrEnum):
    """Why money went back."""

    CANCELLATION = "CANCELLATION"  # the order was cancelled: everything paid goes back
    EXCESS = "EXCESS"  # a payment the order no longer needed (late, or beyond what was due)
    LINES = "LINES"  # staff gave back units of some lines, and perhaps the shipping
    RETURN = "RETURN"  # an approved return: the units sent back

    @property
    def counts_against_order(self) -> bool:
        """Whether it gives back money the order took (`Order.total_refunded`): an excess
        payment was never the order's."""
        return self is not RefundKind.EXCESS


class RefundStatus(StrEnum):
    PENDING = "PENDING"  # some allocation waits for the gateway
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class Refund(SQLModel, table=True):
    """Money given back for an order, split over the payments it came from
    (`RefundAllocation`); for LINES and RETURN refunds, the units it was for
    (`RefundLine`) and the shipping."""

    __tablename__ = "refund"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("shipping >= 0 AND shipping <= amount", name="shipping_within_amount"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    order_id: int = Field(
        sa_column=Column(BigKey, ForeignKey("shop_order.id"), nullable=False, index=True)
    )
    kind: str = Field(max_length=24)  # a RefundKind
    status: str = Field(max_length=16)  # a RefundStatus
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # The shipping (with its tax) given back by this refund; part of `amount`.
    shipping: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default="0")
    )
    created_by: int | None = Field(
        default=None,
        sa_column=Column(BigKey, ForeignKey("user_account.id", ondelete="SET NULL")),
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class RefundLine(SQLModel, table=True):
    """Units of one order line a refund gave back, and what they had cost."""

    __tablename__ = "refund_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    refund_id: int = Field(
        sa_column=Column(BigKey, ForeignKey("refund.id"), nullable=False, index=True)
    )
    order_line_id: int = Field(
        sa_column=Column(BigKey, ForeignKey("order_line.id"), nullable=False, index=True)
    )
    quantity: int
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))


class RefundAllocation(SQLModel, table=True):
    """The part of a refund that goes back through one payment's tender: at once for gift
    cards and points, through the gateway (PENDING until its `refund.succeeded`) for cards."""

    __tablename__ = "refund_allocation"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_refund_allocation_pending", "status", "created_at"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    refund_id: int = Field(
        sa_column=Column(BigKey, ForeignKey("refund.id"), nullable=False, index=True)
    )
    payment_id: int = Field(
        sa_column=Column(BigKey, ForeignKey("payment.id"), nullable=False, index=True)
    )
    method: str = Field(max_length=16)  # the payment's PaymentMethod
    status: str = Field(max_length=16)  # a RefundStatus
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    # CARD: the gateway's reference of the refund, once the gateway accepted it.
    provider_reference: str | None = Field(default=None, sa_column=Column(String(200)))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class NotificationState(StrEnum):
    RECEIVED = "RECEIVED"  # stored, not yet acted on (or acting on it was interrupted)
    PROCESSED = "PROCESSED"  # acted on
    IGNORED = "IGNORED"  # acknowledged with nothing to do (unknown reference, stale news)
    REJECTED = "REJECTED"  # refused: unsigned, malformed, or not matching the payment
    FAILED = "FAILED"  # acting on it failed unexpectedly; the gateway retries, staff replay


class PaymentNotification(SQLModel, table=True):
    """A notification from the payment gateway, stored as received before it is acted on."""

    __tablename__ = "payment_notification"
    __table_args__ = (
        # An event is applied once. Only verified notifications carry their event id, so
        # that a forgery cannot take the id of a real event before it arrives.
        Index("uq_payment_notification_event", "provider", "event_id", unique=True),
        Index("ix_payment_notification_state", "state", "id"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    provider: str = Field(max_length=40)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signature: str = Field(max_length=16)  # an app.signing.SignatureVerdict
    signed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    event_id: str | None = Field(default=None, sa_column=Column(String(200)))
    event_type: str | None = Field(default=None, sa_column=Column(String(40)))
    reference: str | None = Field(default=None, sa_column=Column(String(200)))
    state: str = Field(max_length=16)  # a NotificationState
    error: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    attempts: int = Field(default=0)
    payment_id: int | None = Field(default=None, sa_column=Column(BigKey, ForeignKey("payment.id")))
    received_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    processed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
