"""Issuing gift cards, and spending and refilling their balances.

A balance only changes through a conditional update (`balance >= amount` for a
spend), written with its ledger entry in the caller's transaction, so that
concurrent uses of one card can never take it below zero, and every change is
accounted for. Callers lock the card first (`lock_by_code`) when they need its
balance to decide how much to take; the conditional update stays the backstop.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.database import flush_unique, written
from app.errors import ErrorCode, Problems, fail
from app.giftcards.models import GiftCard, GiftCardEntry, GiftCardEntryKind
from app.ledger import Source
from app.money import MAX_AMOUNT, display

# No 0/O or 1/I: codes are read out and typed by people.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
GENERATED_LENGTH = 16  # 80 bits
MIN_CODE_LENGTH = 8
MAX_CODE_LENGTH = 64
_CODE = re.compile(r"[A-Z0-9]+")
_SEPARATORS = re.compile(r"[\s-]+")


def normalize_code(code: str) -> str:
    """How codes are stored and matched: upper case, without spaces or dashes."""
    return _SEPARATORS.sub("", code).upper()


def generate_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(GENERATED_LENGTH))


@dataclass(frozen=True, slots=True)
class GiftCardData:
    initial_balance: int
    currency: str
    code: str | None = None
    expires_at: datetime | None = None


def _checked_code(data: GiftCardData, problems: Problems) -> str:
    if data.code is None:
        return generate_code()
    code = normalize_code(data.code)
    if not MIN_CODE_LENGTH <= len(code) <= MAX_CODE_LENGTH or not _CODE.fullmatch(code):
        problems.add(
            ErrorCode.INVALID,
            f"a code has {MIN_CODE_LENGTH} to {MAX_CODE_LENGTH} letters and digits "
            "(spaces and dashes are ignored)",
            "input", "code",
        )  # fmt: skip
    return code


async def issue(
    session: AsyncSession, data: GiftCardData, created_by: int | None, now: datetime
) -> GiftCard:
    """A new card holding `initial_balance`, with its first ledger entry."""
    problems = Problems()
    code = _checked_code(data, problems)
    if not 0 < data.initial_balance < MAX_AMOUNT:
        problems.add(
            ErrorCode.INVALID, "the initial balance must be positive", "input", "initial_balance"
        )
    if data.expires_at is not None and data.expires_at <= now:
        problems.add(ErrorCode.INVALID, "the expiry must be in the future", "input", "expires_at")
    problems.raise_if_any()
    card = GiftCard(
        code=code,
        currency=data.currency,
        initial_balance=data.initial_balance,
        balance=data.initial_balance,
        expires_at=data.expires_at,
        created_by=created_by,
        created_at=now,
    )
    session.add(card)
    await flush_unique(
        session,
        conflict=fail(ErrorCode.ALREADY_EXISTS, "this code is already used", "input", "code"),
    )
    assert card.id is not None
    await _record(session, card.id, GiftCardEntryKind.ISSUED, card.balance, card.balance, now)
    return card


async def lock_by_code(session: AsyncSession, code: str) -> GiftCard | None:
    """The card with this code, locked until the transaction ends (after the order: see
    `app.inventory.locking`)."""
    normalized = normalize_code(code)
    if not normalized or len(normalized) > MAX_CODE_LENGTH:
        return None
    return (
        await session.exec(
            select(GiftCard)
            .where(GiftCard.code == normalized)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).first()


async def spend(
    session: AsyncSession, card: GiftCard, amount: int, source: Source, now: datetime
) -> int:
    """Takes `amount` off the card; the balance left. AMOUNT_EXCEEDED (nothing taken) when
    the card holds less, whatever ran meanwhile."""
    assert card.id is not None
    assert amount > 0
    left = (
        await session.exec(  # type: ignore[call-overload]
            update(GiftCard)
            .where(col(GiftCard.id) == card.id, col(GiftCard.balance) >= amount)
            .values(balance=col(GiftCard.balance) - amount)
            .returning(GiftCard.balance)
        )
    ).scalar_one_or_none()
    if left is None:
        raise fail(
            ErrorCode.AMOUNT_EXCEEDED,
            f"the gift card holds only {display(card.balance, card.currency)}",
            "amount",
        )
    written(card, balance=left)
    await _record(session, card.id, GiftCardEntryKind.PAYMENT, -amount, left, now, source)
    return int(left)


async def refill(
    session: AsyncSession, card_id: int, amount: int, source: Source, now: datetime
) -> int:
    """Gives `amount` back to the card (a refund of a payment it made); the new balance.
    An expired card takes it too: the money is the customer's."""
    assert amount > 0
    balance = (
        await session.exec(  # type: ignore[call-overload]
            update(GiftCard)
            .where(col(GiftCard.id) == card_id)
            .values(balance=col(GiftCard.balance) + amount)
            .returning(GiftCard.balance)
        )
    ).scalar_one()
    await _record(session, card_id, GiftCardEntryKind.REFUND, amount, balance, now, source)
    return int(balance)


async def _record(
    session: AsyncSession,
    card_id: int,
    kind: GiftCardEntryKind,
    amount: int,
    balance_after: int,
    now: datetime,
    source: Source | None = None,
) -> None:
    await session.exec(  # type: ignore[call-overload]
        insert(GiftCardEntry).values(
            gift_card_id=card_id,
            kind=kind.value,
            amount=amount,
            balance_after=balance_after,
            **(source or Source()).columns(),
            created_at=now,
        )
    )
