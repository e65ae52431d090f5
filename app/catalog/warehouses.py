"""Warehouses: where stock is kept."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.catalog.common import require_unique
from app.catalog.models import Warehouse
from app.database import Database, flush_unique
from app.errors import ErrorCode, Problems


async def list_warehouses(db: Database) -> list[Warehouse]:
    async with db.session() as session:
        return list((await session.exec(select(Warehouse).order_by(col(Warehouse.code)))).all())


async def create_warehouse(session: AsyncSession, name: str, code: str, now: datetime) -> Warehouse:
    problems = Problems()
    if not name.strip() or len(name) > 200:
        problems.add(ErrorCode.INVALID, "name must be 1-200 characters", "input", "name")
    code = code.strip().upper()
    if not code or len(code) > 50 or not code.replace("-", "").replace("_", "").isalnum():
        problems.add(
            ErrorCode.INVALID, "code must be 1-50 letters, digits, - or _", "input", "code"
        )
    problems.raise_if_any()
    await require_unique(session, Warehouse.code, code, None, "input", "code")
    warehouse = Warehouse(name=name.strip(), code=code, created_at=now)
    session.add(warehouse)
    await flush_unique(session, "input", "code")
    return warehouse
