"""Promotion tables: promotions and their redemptions (one per order that used one)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, String
from sqlmodel import Field, SQLModel

from app.columns import BigKey, JSONColumn, UTCDateTime, utcnow


class Promotion(SQLModel, table=True):
    __tablename__ = "promotion"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('PERCENTAGE', 'FIXED_AMOUNT', 'THRESHOLD', 'FREE_SHIPPING')", name="kind"
        ),
        CheckConstraint("scope IN ('ALL', 'CATEGORIES', 'PRODUCTS')", name="scope"),
        CheckConstraint("value >= 0", name="value_not_negative"),
        # The database keeps the limit even under concurrent checkouts.
        CheckConstraint("usage_limit IS NULL OR used_count <= usage_limit", name="within_limit"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16)
    # Basis points for PERCENTAGE (1250 = 12.5 %), minor units otherwise.
    value: int = Field(sa_column=Column(BigInteger, nullable=False))
    min_subtotal: int | None = Field(default=None, sa_column=Column(BigInteger))
    scope: str = Field(default="ALL", max_length=16)
    category_ids: list[int] = Field(
        default_factory=list, sa_column=Column(JSONColumn, nullable=False)
    )
    product_ids: list[int] = Field(
        default_factory=list, sa_column=Column(JSONColumn, nullable=False)
    )
    # Stored upper-case; codes are matched case-insensitively.
    coupon_code: str | None = Field(default=None, sa_column=Column(String(64), unique=True))
    priority: int = Field(default=0)
    stackable: bool = Field(default=True)
    starts_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    ends_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    usage_limit: int | None = Field(default=None)
    used_count: int = Field(default=0)
    per_customer_limit: int | None = Field(default=None)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class PromotionRedemption(SQLModel, table=True):
    """One use of a promotion by one order; counts toward per-customer limits."""

    __tablename__ = "promotion_redemption"
    __table_args__ = (Index("ix_promotion_redemption_customer", "promotion_id", "customer_email"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    promotion_id: int = Field(
        sa_column=Column(BigKey, ForeignKey("promotion.id", ondelete="CASCADE"), nullable=False)
    )
    order_id: int = Field(
        sa_column=Column(BigKey, ForeignKey("shop_order.id", ondelete="CASCADE"), nullable=False)
    )
    customer_email: str = Field(max_length=320)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
