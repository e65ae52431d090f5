"""Warehouses (staff)."""

from __future__ import annotations

from app.catalog.models import Warehouse
from app.catalog.warehouses import create_warehouse, list_warehouses
from resolvers.context import Context


async def all_warehouses(ctx: Context) -> list[Warehouse]:
    return await list_warehouses(ctx.db)


async def new_warehouse(ctx: Context, name: str, code: str) -> Warehouse:
    return await create_warehouse(ctx.db, name, code, ctx.now())
