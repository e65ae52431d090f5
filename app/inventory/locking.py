"""Locking stock rows, and the one lock order of every write.

Writers that share rows lock them in one global order, so that no two
transactions can each hold a lock the other waits for (PostgreSQL row locks;
SQLite runs one writer at a time and ignores FOR UPDATE):

0. a payment notification being acted on (`payments.inbox.lock`), before
   anything it changes;
1. the user (`accounts.users.lock_user`): per-customer rules such as one
   active cart and one default address;
2. the cart (`cart.access.find(lock=True)`, `cart.access.active_cart_of(lock=True)`),
   or the order (`orders.transitions.lock`): whoever changes an order's status,
   amounts or payments (paying, a webhook, cancelling, completing, hiding) locks
   its row first, one order per transaction. A guest cart being signed in is
   locked before the user: it belongs to nobody yet, so no one holding a user
   lock waits for it. The cart purge skips carts that someone is using instead
   of waiting for them. Payment and refund rows, the counts of units refunded
   on order lines and return requests belong to their order: its lock covers
   them (refunds of lines and returns lock the order first), and so are its
   shipments and their carrier events (ShipmentCreate and a carrier's webhook
   lock the order first);
3. stock rows: every row the transaction will write, or whose holds it will
   release or take, locked up front in one statement in stock id order
   (`lock`). Locking more rows later would break the order: a transaction
   that needs a row must have it in its first `lock`; locking again rows it
   holds already is harmless. A staff stock edit writes one row in one
   statement and holds no other stock lock;
4. stock holds: written or deleted only by whoever holds the lock on their
   stock row (`inventory.holds`);
5. promotions with a per-customer limit, in id order (checkout), then their
   use counts (checkout, cancellation);
6. gift cards (`giftcards.cards.lock_by_code`, and the conditional updates of
   their balances), in id order when a refund gives back to several;
7. customers' points balances (`loyalty.points.lock_balance`, and the
   conditional updates of the balance).

Deadlocks or serialisation failures that slip through anyway roll back one
transaction, which is retried whole (`database.is_retryable`).

Every write to a stock row goes through `adjust`, on rows this transaction has
locked: the statement is conditional, so that no row ever goes below what is
available, whatever ran meanwhile.

`lock` takes every row of each variant concerned, even when asked for some rows
only: what a variant has available is then known exactly, before and after
each write, and a write that changes a variant's stock status (what the
storefront shows, `app.catalog.availability`) moves the catalog version
(`app.catalog.version`). Exact quantities never need to.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import case, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.catalog.availability import stock_status
from app.catalog.models import ProductVariant
from app.catalog.version import storefront_changed
from app.errors import ErrorCode, fail
from app.inventory.allocation import StockRow
from app.inventory.models import Stock


@dataclass(slots=True)
class LockedStock:
    """Stock rows this transaction holds locked, with what each has available as the
    transaction's own writes (`adjust`) change it."""

    rows: dict[int, StockRow]
    # Low-stock threshold per variant whose rows are all locked.
    thresholds: dict[int, int] = dataclasses.field(default_factory=dict)

    @property
    def stock_ids(self) -> list[int]:
        return sorted(self.rows)

    def of_variant(self, variant_id: int) -> list[StockRow]:
        return [row for row in self.rows.values() if row.variant_id == variant_id]

    def units(self, variant_id: int) -> int:
        """Units of the variant available now in the locked rows."""
        return sum(row.available for row in self.of_variant(variant_id))

    def statuses(self, variant_ids: Collection[int]) -> dict[int, str]:
        return {
            v: stock_status(self.units(v), self.thresholds.get(v, 0)).value for v in variant_ids
        }


async def lock(
    session: AsyncSession, variant_ids: Collection[int] = (), stock_ids: Collection[int] = ()
) -> LockedStock:
    """Locks the stock rows of these variants and every row of the variants these rows
    belong to, in id order, in one statement; returns them as they are now."""
    if not variant_ids and not stock_ids:
        return LockedStock({})
    wanted = []
    if variant_ids:
        wanted.append(col(Stock.variant_id).in_(sorted(variant_ids)))
    if stock_ids:
        of_rows = select(Stock.variant_id).where(col(Stock.id).in_(sorted(stock_ids)))
        wanted.append(col(Stock.variant_id).in_(of_rows))
    threshold = (
        select(ProductVariant.low_stock_threshold)
        .where(col(ProductVariant.id) == col(Stock.variant_id))
        .scalar_subquery()
    )
    rows = await session.exec(
        select(Stock.id, Stock.variant_id, Stock.warehouse_id, Stock.available, threshold)
        .where(or_(*wanted))
        .order_by(col(Stock.id))
        .with_for_update(of=Stock)  # type: ignore[arg-type]
    )
    locked = LockedStock({})
    for stock_id, variant, warehouse, units, low in rows.all():
        locked.rows[stock_id] = StockRow(stock_id, variant, warehouse, units)
        locked.thresholds[variant] = int(low or 0)
    return locked


class Column(StrEnum):
    QUANTITY = "quantity"  # on hand
    RESERVED = "reserved"  # held for carts


async def adjust(
    session: AsyncSession, locked: LockedStock, column: Column, deltas: Mapping[int, int]
) -> bool:
    """Adds `deltas` (per stock id) to `column` of locked rows, in one statement.

    A change that lowers what is available (fewer on hand, more held) applies only where
    that many units are available: a conditional update, so that nothing is promised twice
    whatever ran meanwhile. False, with nothing written, when the locked rows have too few;
    `locked` follows what was written.
    """
    deltas = {stock_id: delta for stock_id, delta in deltas.items() if delta}
    if not deltas:
        return True
    missing = set(deltas) - set(locked.rows)
    if missing:
        raise RuntimeError(f"stock rows {sorted(missing)} are written without their lock")
    effect = 1 if column is Column.QUANTITY else -1  # of a positive delta on `available`
    needed = {stock_id: max(-effect * delta, 0) for stock_id, delta in deltas.items()}
    if any(locked.rows[stock_id].available < n for stock_id, n in needed.items()):
        return False
    variants = {locked.rows[stock_id].variant_id for stock_id in deltas}
    before = locked.statuses(variants)
    target = getattr(Stock, column.value)
    changed = await session.exec(  # type: ignore[call-overload]
        update(Stock)
        .where(
            col(Stock.id).in_(sorted(deltas)),
            Stock.available >= case(needed, value=col(Stock.id), else_=0),
        )
        .values({column.value: target + case(deltas, value=col(Stock.id), else_=0)})
    )
    if changed.rowcount != len(deltas):
        # Someone wrote a locked row: the caller's transaction must not go on (it rolls back).
        raise fail(ErrorCode.INSUFFICIENT_STOCK, "stock changed meanwhile; try again")
    for stock_id, delta in deltas.items():
        row = locked.rows[stock_id]
        locked.rows[stock_id] = dataclasses.replace(row, available=row.available + effect * delta)
    if locked.statuses(variants) != before:
        storefront_changed(session)
    return True
