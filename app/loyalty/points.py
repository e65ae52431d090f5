"""Points balances: earning, spending, giving back, and what points are worth.

Every change is one conditional update of the customer's balance (never below
zero: a spend applies only where the balance covers it) with its ledger entry,
in the caller's transaction. Callers that decide an amount from the balance
lock the account first (`lock_balance`, after the order: see
`app.inventory.locking`); the conditional update stays the backstop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.database import Database, upsert
from app.errors import ErrorCode, fail
from app.ledger import Source
from app.loyalty.models import PointsAccount, PointsEntry, PointsEntryKind
from app.money import minor_per_unit, scale
from app.paging import Keyset, Page, keyset_page
from app.settings import Settings


@dataclass(frozen=True, slots=True)
class PointsRates:
    """`earned_per_unit` points for each currency unit paid; `per_unit` points pay one
    currency unit."""

    earned_per_unit: int
    per_unit: int
    currency: str

    @classmethod
    def from_settings(cls, settings: Settings) -> PointsRates:
        return cls(settings.points_earned_per_unit, settings.points_per_unit, settings.currency)

    def value_of(self, points: int) -> int:
        """Minor units that `points` pay for (rounded down: never more than they are worth)."""
        return scale(points, minor_per_unit(self.currency), self.per_unit)

    def cost_of(self, amount: int) -> int:
        """Points needed to pay `amount` minor units (rounded up: never less)."""
        return scale(amount, self.per_unit, minor_per_unit(self.currency), up=True)

    def earned_on(self, amount: int) -> int:
        """Points earned by paying `amount` minor units (rounded down)."""
        return scale(amount, self.earned_per_unit, minor_per_unit(self.currency))


async def balances(db: Database, user_ids: Sequence[int]) -> list[int]:
    """Each customer's balance (0 before the first points), in key order."""
    async with db.session() as session:
        rows = await session.exec(
            select(PointsAccount.user_id, PointsAccount.balance).where(
                col(PointsAccount.user_id).in_(user_ids)
            )
        )
        found = dict(rows.all())
    return [int(found.get(user_id, 0)) for user_id in user_ids]


async def lock_balance(session: AsyncSession, user_id: int) -> int:
    """The customer's balance, locked until the transaction ends."""
    balance = (
        await session.exec(
            select(PointsAccount.balance).where(PointsAccount.user_id == user_id).with_for_update()
        )
    ).first()
    return int(balance or 0)


async def spend(
    session: AsyncSession,
    user_id: int,
    points: int,
    source: Source,
    now: datetime,
    kind: PointsEntryKind = PointsEntryKind.SPENT,
) -> int:
    """Takes `points` from the balance; the balance left. AMOUNT_EXCEEDED (nothing taken)
    when it holds fewer, whatever ran meanwhile."""
    assert points > 0
    left = (
        await session.exec(  # type: ignore[call-overload]
            update(PointsAccount)
            .where(col(PointsAccount.user_id) == user_id, col(PointsAccount.balance) >= points)
            .values(balance=col(PointsAccount.balance) - points, updated_at=now)
            .returning(PointsAccount.balance)
        )
    ).scalar_one_or_none()
    if left is None:
        raise fail(ErrorCode.AMOUNT_EXCEEDED, f"you have fewer than {points} points", "amount")
    await _record(session, user_id, kind, -points, left, source, now)
    return int(left)


async def credit(
    session: AsyncSession,
    user_id: int,
    points: int,
    kind: PointsEntryKind,
    source: Source,
    now: datetime,
) -> int:
    """Adds `points` (earned, or given back), making the account on first use; the new
    balance."""
    assert points > 0
    statement = upsert(session)(PointsAccount).values(
        user_id=user_id, balance=points, updated_at=now
    )
    balance = (
        await session.exec(
            statement.on_conflict_do_update(
                index_elements=["user_id"],
                set_={"balance": col(PointsAccount.balance) + points, "updated_at": now},
            ).returning(PointsAccount.balance)
        )
    ).scalar_one()
    await _record(session, user_id, kind, points, balance, source, now)
    return int(balance)


async def revoke(
    session: AsyncSession, user_id: int, points: int, source: Source, now: datetime
) -> int:
    """Takes back up to `points` earned earlier (REVOKED), never more than the balance
    holds: points already spent stay spent. How many were taken."""
    assert points > 0
    balance = await lock_balance(session, user_id)
    taken = min(points, balance)
    if taken:
        await spend(session, user_id, taken, source, now, PointsEntryKind.REVOKED)
    return taken


async def earned_and_revoked(session: AsyncSession, user_id: int, order_id: int) -> tuple[int, int]:
    """Points the customer earned on an order, and how many of them were taken back."""
    rows = await session.exec(
        select(PointsEntry.kind, func.sum(PointsEntry.points))
        .where(
            PointsEntry.user_id == user_id,
            PointsEntry.order_id == order_id,
            col(PointsEntry.kind).in_([PointsEntryKind.EARNED, PointsEntryKind.REVOKED]),
        )
        .group_by(PointsEntry.kind)
    )
    found = {kind: int(total or 0) for kind, total in rows.all()}
    return found.get(PointsEntryKind.EARNED, 0), -found.get(PointsEntryKind.REVOKED, 0)


async def _record(
    session: AsyncSession,
    user_id: int,
    kind: PointsEntryKind,
    points: int,
    balance_after: int,
    source: Source,
    now: datetime,
) -> None:
    await session.exec(  # type: ignore[call-overload]
        insert(PointsEntry).values(
            user_id=user_id,
            kind=kind.value,
            points=points,
            balance_after=balance_after,
            created_at=now,
            **source.columns(),
        )
    )


LEDGER = Keyset("POINTS", [col(PointsEntry.id)], [int])


async def ledger(db: Database, user_id: int, first: int, after: str | None) -> Page[PointsEntry]:
    """A customer's ledger, newest first."""
    async with db.session() as session:
        return await keyset_page(
            session,
            select(PointsEntry).where(PointsEntry.user_id == user_id),
            LEDGER,
            first,
            after,
            lambda entry: [entry.id],
        )
