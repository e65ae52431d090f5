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
