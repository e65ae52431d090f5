"""Gift card tables: the cards and the ledger of every change to their balances."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, String
from sqlmodel import Field, SQLModel

from app.columns import BigKey, UTCDateTime, utcnow


class GiftCardEntryKind(StrEnum):
    ISSUED = "ISSUED"  # the initial balance
    PAYMENT = "PAYMENT"  # spent on an order (negative)
    REFUND = "REFUND"  # given back from a payment it made (positive)


class GiftCard(SQLModel, table=True):
    __tablename__ = "gift_card"
    __table_args__ = (
        # Backstop for the conditional update that spends a card.
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("initial_balance > 0", name="initial_balance_positive"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    # Stored upper-case without spaces or dashes; matched the same way.
    code: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    currency: str = Field(max_length=3)
    initial_balance: int = Field(sa_column=Column(BigInteger, nullable=False))
    balance: int = Field(sa_column=Column(BigInteger, nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_by: int | None = Field(
        default=None,
        sa_column=Column(BigKey, ForeignKey("user_account.id", ondelete="SET NULL")),
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )

    def usable_at(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now


class GiftCardEntry(SQLModel, table=True):
    """One change to a card's balance: `amount` signed, `balance_after` as written."""

    __tablename__ = "gift_card_entry"
    __table_args__ = (Index("ix_gift_card_entry_card", "gift_card_id", "id"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True)
    )
    gift_card_id: int = Field(
        sa_column=Column(BigKey, ForeignKey("gift_card.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(max_length=24)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    balance_after: int = Field(sa_column=Column(BigInteger, nullable=False))
    # What the change was for (ids only: the card knows no other domain's code).
    order_id: int | None = Field(
        default=None, sa_column=Column(BigKey, ForeignKey("shop_order.id"), index=True)
    )
    payment_id: int | None = Field(default=None, sa_column=Column(BigKey, ForeignKey("payment.id")))
    refund_id: int | None = Field(default=None, sa_column=Column(BigKey, ForeignKey("refund.id")))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
