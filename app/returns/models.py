"""Return requests: units of a delivered order a customer asks to send back, and what
staff decided."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, Text
from sqlmodel import Field, SQLModel

from app.columns import BigKey, UTCDateTime, utcnow


class ReturnStatus(StrEnum):
    REQUESTED = "REQUESTED"  # waiting for staff
    APPROVED = "APPROVED"  # refunded; the units not damaged back on the shelves
    REJECTED = "REJECTED"  # turned down, with the reason told to the customer


class ReturnRequest(SQLModel, table=True):
    """Belongs to its order: whoever changes it holds the order's lock."""

    __tablename__ = "return_request"

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    order_id: int = Field(
        sa_column=Column(BigKey, ForeignKey("shop_order.id"), nullable=False, index=True)
    )
    status: str = Field(default=ReturnStatus.REQUESTED.value, max_length=16)  # a ReturnStatus
    reason: str = Field(sa_column=Column(Text, nullable=False))  # the customer's
    # Staff's note on approving, or why they rejected it (told to the customer).
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_by: int | None = Field(
        default=None,
        sa_column=Column(BigKey, ForeignKey("user_account.id", ondelete="SET NULL")),
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    decided_by: int | None = Field(
        default=None,
        sa_column=Column(BigKey, ForeignKey("user_account.id", ondelete="SET NULL")),
    )
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # The refund an approval made (None when the units cost nothing).
    refund_id: int | None = Field(default=None, sa_column=Column(BigKey, ForeignKey("refund.id")))


class ReturnRequestLine(SQLModel, table=True):
    """Units of one order line to send back; `damaged` of them came back unsellable
    (refunded, not put back on the shelves), as staff said on approving."""

    __tablename__ = "return_request_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("damaged >= 0 AND damaged <= quantity", name="damaged_within_quantity"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    return_request_id: int = Field(
        sa_column=Column(BigKey, ForeignKey("return_request.id"), nullable=False, index=True)
    )
    order_line_id: int = Field(
        sa_column=Column(BigKey, ForeignKey("order_line.id"), nullable=False, index=True)
    )
    quantity: int = Field(sa_column=Column(Integer, nullable=False))
    damaged: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
