"""Batch loads shared by every domain: rows by a unique column, one statement a batch.

As aiodataloader expects, one result per key in key order, None where no row
has the key. Each batch opens its own short session, because sibling resolvers
run concurrently and a session cannot be shared between them. Who may see a
row is decided by the caller, not here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlmodel import SQLModel, col, select

from app.database import Database

M = TypeVar("M", bound=SQLModel)


async def rows_by(db: Database, model: type[M], column: Any, keys: Sequence[Any]) -> list[M | None]:
    """The row of `model` whose unique `column` holds each key."""
    async with db.session() as session:
        rows = (await session.exec(select(model).where(col(column).in_(keys)))).all()
    found = {getattr(row, column.key): row for row in rows}
    return [found.get(key) for key in keys]


async def rows_of(
    db: Database, model: type[M], column: Any, keys: Sequence[Any], order_by: Any
) -> list[list[M]]:
    """The rows of `model` whose `column` holds each key (many per key), in `order_by` (a
    column, or a tuple of them)."""
    order = order_by if isinstance(order_by, tuple) else (order_by,)
    async with db.session() as session:
        rows = (
            await session.exec(select(model).where(col(column).in_(keys)).order_by(*order))
        ).all()
    grouped: dict[Any, list[M]] = {key: [] for key in keys}
    for row in rows:
        grouped[getattr(row, column.key)].append(row)
    return [grouped[key] for key in keys]
