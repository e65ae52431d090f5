"""Batch loads of orders: one statement per batch, results in key order."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select

from app.database import Database
from app.orders.models import Order


async def orders_by_id(db: Database, ids: Sequence[int]) -> list[Order | None]:
    async with db.session() as session:
        rows = (await session.exec(select(Order).where(col(Order.id).in_(ids)))).all()
    found = {row.id: row for row in rows}
    return [found.get(key) for key in ids]
