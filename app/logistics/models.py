"""Logistics tables: shipments, the order-line units each carries, and carrier events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Text
from sqlmodel import Field, SQLModel

from app.columns import BigKey, UTCDateTime, utcnow
from app.logistics.status import ShipmentStatus


class Shipment(SQLModel, table=True):
    __tablename__ = "shipment"
    __table_args__ = (
        # A tracking number names one parcel of its carrier: the carrier's events find it.
        Index("uq_shipment_carrier_tracking", "carrier", "tracking_number", unique=True),
        # Staff's list of parcels in trouble (and any other status), newest first.
        Index("ix_shipment_status", "status", "id"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    order_id: int = Field(
        sa_column=Column(
            BigKey, ForeignKey("shop_order.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    warehouse_id: int = Field(
        sa_column=Column(BigKey, ForeignKey("warehouse.id", ondelete="RESTRICT"), nullable=False)
    )
    carrier: str = Field(sa_column=Column(String(50), nullable=False))
    tracking_number: str = Field(sa_column=Column(String(100), nullable=False))
    status: str = Field(default=ShipmentStatus.PENDING.value, max_length=24)
    shipped_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # When the event the status comes from happened: a later-arriving event that happened
    # before it is kept in the history but does not change the status.
    status_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_by: int | None = Field(
        default=None,
        sa_column=Column(BigKey, ForeignKey("user_account.id", ondelete="SET NULL")),
    )


class ShipmentLine(SQLModel, table=True):
    __tablename__ = "shipment_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    shipment_id: int = Field(
        sa_column=Column(
            BigKey, ForeignKey("shipment.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    order_line_id: int = Field(
        sa_column=Column(
            BigKey, ForeignKey("order_line.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    quantity: int


class ShipmentEvent(SQLModel, table=True):
    """One carrier event, stored once per event id however often it is delivered."""

    __tablename__ = "shipment_event"
    __table_args__ = (
        Index("uq_shipment_event_carrier_event", "carrier", "event_id", unique=True),
        Index("ix_shipment_event_shipment_occurred", "shipment_id", "occurred_at"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    shipment_id: int = Field(
        sa_column=Column(BigKey, ForeignKey("shipment.id", ondelete="CASCADE"), nullable=False)
    )
    carrier: str = Field(sa_column=Column(String(50), nullable=False))
    event_id: str = Field(sa_column=Column(String(200), nullable=False))
    status: str = Field(max_length=24)
    location: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    received_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
