"""Inventory tables: units per variant and warehouse, and units held for cart lines."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict
from sqlalchemy import CheckConstraint, Column, ForeignKey, Index
from sqlalchemy.ext.hybrid import hybrid_property
from sqlmodel import Field, SQLModel

from app.columns import BigKey, UTCDateTime, utcnow


class Stock(SQLModel, table=True):
    __tablename__ = "stock"
    __table_args__ = (
        # Backstops for the conditional updates that take and hold stock.
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("reserved <= quantity", name="reserved_within_quantity"),
        Index("uq_stock_variant_warehouse", "variant_id", "warehouse_id", unique=True),
    )
    # `available` is a hybrid (Python and SQL), not a column.
    model_config = ConfigDict(ignored_types=(hybrid_property,))  # type: ignore[assignment]

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    variant_id: int = Field(
        default=None,
        sa_column=Column(
            BigKey, ForeignKey("product_variant.id", ondelete="CASCADE"), nullable=False
        ),
    )
    warehouse_id: int = Field(
        default=None,
        sa_column=Column(
            BigKey, ForeignKey("warehouse.id", ondelete="RESTRICT"), nullable=False, index=True
        ),
    )
    quantity: int = Field(default=0)  # on hand
    reserved: int = Field(default=0)  # on hand but held for carts
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )

    @hybrid_property
    def available(self) -> int:
        """The one definition of what can still be sold from this row: on hand, not held.
        In Python on a loaded row, and in SQL (`Stock.available`) in queries."""
        return self.quantity - self.reserved


class StockHold(SQLModel, table=True):
    """Units of one stock row held for a cart line until `expires_at` (reserve-on-add)."""

    __tablename__ = "stock_hold"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_stock_hold_expires_at", "expires_at"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    # No cascades: a hold is released (stock.reserved given back) before its line goes.
    line_id: int = Field(
        sa_column=Column(BigKey, ForeignKey("cart_line.id"), nullable=False, index=True)
    )
    stock_id: int = Field(sa_column=Column(BigKey, ForeignKey("stock.id"), nullable=False))
    quantity: int
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
