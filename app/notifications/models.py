"""The outbox: every email the shop sends, kept with whether and when it went out."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from app.columns import BigKey, UTCDateTime, utcnow


class EmailStatus(StrEnum):
    PENDING = "PENDING"  # waiting for the mail server (or for one to be configured)
    SENT = "SENT"  # the mail server took it
    FAILED = "FAILED"  # given up after `EMAIL_MAX_ATTEMPTS` tries; kept for staff to read


class OutboxEmail(SQLModel, table=True):
    __tablename__ = "email_outbox"
    __table_args__ = (
        # What the upkeep (re)sends: pending mail whose next try is due.
        Index("ix_email_outbox_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    recipient: str = Field(sa_column=Column(String(320), nullable=False))
    subject: str = Field(sa_column=Column(String(300), nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    # The order it is about, if any (by id only: notifications know no other domain).
    order_id: int | None = Field(
        default=None,
        sa_column=Column(BigKey, ForeignKey("shop_order.id", ondelete="SET NULL"), index=True),
    )
    status: str = Field(default=EmailStatus.PENDING.value, max_length=16)  # an EmailStatus
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    # Why the last try failed ('' when none did).
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    # When it may be tried (again); a try in progress moves it on, so that no other
    # worker takes it meanwhile.
    next_attempt_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
