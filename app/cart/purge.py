"""Carts unused past their expiry are deleted, and what they held is given back."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.cart.access import delete_carts
from app.cart.models import Cart


async def purge_expired(session: AsyncSession, now: datetime, limit: int = 500) -> int:
    """Deletes up to `limit` carts unused past their expiry; how many it deleted."""
    # Locked like any cart write (cart before stock); a cart in use is left for the next round.
    carts = list(
        (
            await session.exec(
                select(Cart)
                .where(col(Cart.expires_at) <= now)
                .order_by(col(Cart.id))
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
    )
    if carts:
        await delete_carts(session, carts)
    return len(carts)
