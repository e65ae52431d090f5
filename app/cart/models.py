"""Cart tables: carts and their lines (units held for lines are inventory's)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, text
from sqlmodel import Field, SQLModel

from app.columns import BigKey, JSONColumn, UTCDateTime, utcnow


class CartStatus(StrEnum):
    ACTIVE = "ACTIVE"
    MERGED = "MERGED"  # folded into the customer's cart at sign-in
    ORDERED = "ORDERED"


class Cart(SQLModel, table=True):
    __tablename__ = "cart"
    __table_args__ = (
        CheckConstraint("status IN ('ACTIVE', 'MERGED', 'ORDERED')", name="status"),
        # One active cart per customer, whatever device asks for it.
        Index(
            "uq_cart_active_user",
            "user_id",
            unique=True,
            sqlite_where=text("status = 'ACTIVE'"),
            postgresql_where=text("status = 'ACTIVE'"),
        ),
        Index("ix_cart_expires_at", "expires_at"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    # The public id: unguessable, since knowing it is what gives a guest access.
    token: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    user_id: int | None = Field(
        default=None,
        sa_column=Column(BigKey, ForeignKey("user_account.id", ondelete="CASCADE"), index=True),
    )
    status: str = Field(default=CartStatus.ACTIVE.value, max_length=16)
    coupon_codes: list[str] = Field(
        default_factory=list, sa_column=Column(JSONColumn, nullable=False)
    )
    shipping_address: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONColumn))
    shipping_method_id: int | None = Field(
        default=None,
        sa_column=Column(BigKey, ForeignKey("shipping_method.id", ondelete="SET NULL")),
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class CartLine(SQLModel, table=True):
    __tablename__ = "cart_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("uq_cart_line_variant", "cart_id", "variant_id", unique=True),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    cart_id: int = Field(
        sa_column=Column(BigKey, ForeignKey("cart.id", ondelete="CASCADE"), nullable=False)
    )
    variant_id: int = Field(
        sa_column=Column(
            BigKey, ForeignKey("product_variant.id", ondelete="CASCADE"), nullable=False
        )
    )
    quantity: int
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
