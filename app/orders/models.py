"""Order tables: orders with snapshots of what was bought, their lines and events."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlmodel import Field, SQLModel

from app.columns import BigKey, JSONColumn, UTCDateTime, utcnow

ORDER_NUMBER_OFFSET = 100_000


class OrderStatus(StrEnum):
    """Where an order is in its life; which status may follow which is
    `app.orders.transitions.ALLOWED`, and nowhere else."""

    UNPAID = "UNPAID"
    PAID = "PAID"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class OrderEventType(StrEnum):
    """What an order's history records. Every status an order reaches has the event of
    the same name (`app.orders.transitions`); the others note what happened meanwhile."""

    PLACED = "PLACED"
    PAID = "PAID"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    PAYMENT_STARTED = "PAYMENT_STARTED"  # a card payment waits for the gateway
    PAYMENT_RECEIVED = "PAYMENT_RECEIVED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    REFUND_STARTED = "REFUND_STARTED"
    REFUNDED = "REFUNDED"  # the money of a refund is back with the customer
    POINTS_EARNED = "POINTS_EARNED"
    POINTS_REVOKED = "POINTS_REVOKED"  # points earned on it taken back after a refund
    HIDDEN = "HIDDEN"  # the customer took it off their own list
    RETURN_REQUESTED = "RETURN_REQUESTED"
    RETURN_APPROVED = "RETURN_APPROVED"
    RETURN_REJECTED = "RETURN_REJECTED"
    SHIPMENT_SENT = "SHIPMENT_SENT"  # a parcel left that did not move the status
    SHIPMENT_DELIVERED = "SHIPMENT_DELIVERED"
    SHIPMENT_EXCEPTION = "SHIPMENT_EXCEPTION"  # the carrier reports a problem


class Order(SQLModel, table=True):
    __tablename__ = "shop_order"
    __table_args__ = (
        CheckConstraint("amount_due >= 0 AND total >= 0", name="amounts_not_negative"),
        # A retried checkout (same cart, same key) finds the order instead of making another.
        Index("uq_shop_order_idempotency", "cart_id", "idempotency_key", unique=True),
        Index("ix_shop_order_status_expires", "status", "expires_at"),
        Index("ix_shop_order_user_placed", "user_id", "placed_at"),
        Index("ix_shop_order_status_delivered", "status", "delivered_at"),
        # The back office's list and the sales report: by the time orders were placed.
        Index("ix_shop_order_placed", "placed_at", "id"),
        Index("ix_shop_order_email_placed", "email", "placed_at"),
        CheckConstraint(
            "shipping_refunded >= 0 AND shipping_refunded <= shipping_total + shipping_tax",
            name="shipping_refunded_within_paid",
        ),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    user_id: int | None = Field(
        default=None,
        sa_column=Column(BigKey, ForeignKey("user_account.id", ondelete="SET NULL")),
    )
    cart_id: int = Field(sa_column=Column(BigKey, nullable=False))
    idempotency_key: str = Field(sa_column=Column(String(128), nullable=False))
    email: str = Field(max_length=320)
    status: str = Field(default=OrderStatus.UNPAID.value, max_length=24)
    currency: str = Field(max_length=3)
    subtotal: int = Field(sa_column=Column(BigInteger, nullable=False))
    discount_total: int = Field(sa_column=Column(BigInteger, nullable=False))
    shipping_total: int = Field(sa_column=Column(BigInteger, nullable=False))
    shipping_tax: int = Field(sa_column=Column(BigInteger, nullable=False))
    tax_total: int = Field(sa_column=Column(BigInteger, nullable=False))
    total: int = Field(sa_column=Column(BigInteger, nullable=False))
    amount_due: int = Field(sa_column=Column(BigInteger, nullable=False))
    shipping_address: dict[str, Any] = Field(sa_column=Column(JSONColumn, nullable=False))
    shipping_method: dict[str, Any] = Field(sa_column=Column(JSONColumn, nullable=False))
    promotions: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONColumn, nullable=False)
    )
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    placed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # Unpaid orders are cancelled (and their stock released) after this.
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # Secret of the order's id: it proves a guest was shown the order (`ids.OrderKey`).
    # Empty for orders placed before it existed: their ids open nothing to guests.
    token: str = Field(default="", sa_column=Column(String(64), nullable=False, server_default=""))
    # What was given back of what the order took, pending at the gateway or done. A payment
    # the order never took (it came after cancellation, or beyond what was due) is refunded
    # on its own (an EXCESS refund) and not counted here: the total stays what was paid.
    total_refunded: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default="0")
    )
    # Shipping (with its tax) given back so far: all of it or none (`app.payments.lines`).
    shipping_refunded: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default="0")
    )
    # Orders complete by themselves some days after this (`app.orders.completion`); a
    # receipt confirmed before the carrier said so counts as the delivery (returns).
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # When the customer took it off their own list; staff and reports still see it.
    hidden_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))

    @property
    def number(self) -> str:
        return number_of(self.id or 0)


def number_of(order_id: int) -> str:
    """The number customers know an order by (`history.order_id_of_number` reads it back)."""
    return str(ORDER_NUMBER_OFFSET + order_id)


class OrderLine(SQLModel, table=True):
    __tablename__ = "order_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "quantity_refunded >= 0 AND quantity_refunded <= quantity",
            name="refunded_within_quantity",
        ),
        CheckConstraint(
            "amount_refunded >= 0 AND amount_refunded <= total", name="refunded_within_total"
        ),
        CheckConstraint(
            "quantity_restocked >= 0 AND quantity_restocked <= quantity",
            name="restocked_within_quantity",
        ),
        CheckConstraint(
            "quantity_shipped >= 0 AND quantity_shipped <= quantity",
            name="shipped_within_quantity",
        ),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    order_id: int = Field(
        sa_column=Column(
            BigKey, ForeignKey("shop_order.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    variant_id: int | None = Field(
        default=None,
        sa_column=Column(BigKey, ForeignKey("product_variant.id", ondelete="SET NULL")),
    )
    product_id: int | None = Field(default=None, sa_column=Column(BigKey))
    sku: str = Field(max_length=100)
    product_name: str = Field(max_length=300)
    variant_name: str = Field(max_length=300)
    quantity: int
    unit_price: int = Field(sa_column=Column(BigInteger, nullable=False))
    subtotal: int = Field(sa_column=Column(BigInteger, nullable=False))
    discount_allocated: int = Field(sa_column=Column(BigInteger, nullable=False))
    tax: int = Field(sa_column=Column(BigInteger, nullable=False))
    total: int = Field(sa_column=Column(BigInteger, nullable=False))
    # Which promotion took how much off this line (what refunds use).
    discounts: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSONColumn, nullable=False)
    )
    # [{"stock_id", "warehouse_id", "quantity"}]: where the units were taken, for shipping.
    allocations: list[dict[str, int]] = Field(
        default_factory=list, sa_column=Column(JSONColumn, nullable=False)
    )
    # Units whose money went back, and how much (`app.payments.lines`): the first units'
    # shares of what the line cost (`app.money.units_share`).
    quantity_refunded: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    amount_refunded: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default="0")
    )
    # Units back on the shelves (refunded before shipping, returned undamaged, cancelled).
    quantity_restocked: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    # Units that left in shipments (`app.logistics`). Until the order is delivered, the
    # units restocked are units never shipped, so what is left to send is
    # quantity - quantity_restocked - quantity_shipped (`app.orders.units.to_ship`).
    quantity_shipped: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )


class OrderEvent(SQLModel, table=True):
    __tablename__ = "order_event"

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    order_id: int = Field(
        sa_column=Column(
            BigKey, ForeignKey("shop_order.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    type: str = Field(max_length=40)  # an OrderEventType
    message: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
