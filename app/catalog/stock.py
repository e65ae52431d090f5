"""Locking stock rows, and the one lock order of every write.

Writers that share rows lock them in one global order, so that no two
transactions can each hold a lock the other waits for (PostgreSQL row locks;
SQLite runs one writer at a time and ignores FOR UPDATE):

1. the user (`accounts.users.lock_user`): per-customer rules such as one
   active cart and one default address;
2. the cart (`carts.find(lock=True)`, `carts.active_cart_of(lock=True)`). A
   guest cart being signed in is locked before the user: it belongs to nobody
   yet, so no one holding a user lock waits for it. The cart purge skips carts
   that someone is using instead of waiting for them. An unpaid order being
   cancelled is claimed (its status flipped) at this step, before its stock;
3. stock rows: every row the transaction will write, or whose holds it will
   release or take, locked up front in one statement in stock id order
   (`lock`). Locking more rows later would break the order: a transaction
   that needs a row must have it in its first `lock`; locking again rows it
   holds already is harmless. A staff stock edit writes one row in one
   statement and holds no other stock lock;
4. stock holds: written or deleted only by whoever holds the lock on their
   stock row (`cart.holds`);
5. promotions with a per-customer limit, in id order (checkout), then their
   use counts (checkout, cancellation).

Deadlocks or serialisation failures that slip through anyway roll back one
transaction, which is retried whole (`database.is_retryable`).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.catalog.models import Stock


async def lock(
    session: AsyncSession, variant_ids: Collection[int] = (), stock_ids: Collection[int] = ()
) -> list[Stock]:
    """Locks the stock rows of these variants and these rows, in id order; returns them
    as they are now (rows loaded earlier in the session are refreshed)."""
    if not variant_ids and not stock_ids:
        return []
    wanted = []
    if variant_ids:
        wanted.append(col(Stock.variant_id).in_(sorted(variant_ids)))
    if stock_ids:
        wanted.append(col(Stock.id).in_(sorted(stock_ids)))
    rows = await session.exec(
        select(Stock)
        .where(or_(*wanted))
        .order_by(col(Stock.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(rows.all())
