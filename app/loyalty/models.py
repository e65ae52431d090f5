"""Loyalty tables: one balance per customer and the ledger of every change to it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index
from sqlmodel import Field, SQLModel

from app.columns import BigKey, UTCDateTime, utcnow


class PointsEntryKind(StrEnum):
    EARNED = "EARNED"  # an order completed (positive)
    SPENT = "SPENT"  # paid for an order (negative)
    REFUNDED = "REFUNDED"  # given back from a points payment that was refunded (positive)
    REVOKED = "REVOKED"  # earned on an order later refunded, taken back (negative)


class PointsAccount(SQLModel, table=True):
    """A customer's balance, made on first use; written only by conditional updates."""

    __tablename__ = "points_account"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)

    user_id: int = Field(
        sa_column=Column(
            BigKey, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
        )
    )
    balance: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class PointsEntry(SQLModel, table=True):
    """One change to a balance: `points` signed, `balance_after` as written."""

    __tablename__ = "points_entry"
    __table_args__ = (Index("ix_points_entry_user", "user_id", "id"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    user_id: int = Field(
        sa_column=Column(BigKey, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(max_length=24)
    points: int = Field(sa_column=Column(BigInteger, nullable=False))
    balance_after: int = Field(sa_column=Column(BigInteger, nullable=False))
    order_id: int | None = Field(
        default=None, sa_column=Column(BigKey, ForeignKey("shop_order.id"), index=True)
    )
    payment_id: int | None = Field(default=None, sa_column=Column(BigKey, ForeignKey("payment.id")))
    refund_id: int | None = Field(default=None, sa_column=Column(BigKey, ForeignKey("refund.id")))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
