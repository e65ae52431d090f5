"""Shipping tables: shipping methods (rate templates)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column
from sqlmodel import Field, SQLModel

from app.columns import BigKey, JSONColumn, UTCDateTime, utcnow


class ShippingMethod(SQLModel, table=True):
    """A rate template: who it serves and how its fee is computed."""

    __tablename__ = "shipping_method"
    __table_args__ = (
        CheckConstraint("base_fee >= 0 AND per_kg_fee >= 0", name="fees_not_negative"),
        CheckConstraint("min_days >= 0 AND max_days >= min_days", name="delivery_days"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    name: str = Field(max_length=200)
    carrier: str = Field(default="", max_length=100)
    countries: list[str] = Field(default_factory=list, sa_column=Column(JSONColumn, nullable=False))
    base_fee: int = Field(sa_column=Column(BigInteger, nullable=False))
    per_kg_fee: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    free_over: int | None = Field(default=None, sa_column=Column(BigInteger))
    min_days: int = Field(default=1)
    max_days: int = Field(default=5)
    active: bool = Field(default=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
