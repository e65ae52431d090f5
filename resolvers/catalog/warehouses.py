"""Warehouses: the back office's business (`SEE_INVENTORY`), whichever way they are asked for."""

from __future__ import annotations

from collections.abc import Sequence

from app.accounts.permissions import SEE_INVENTORY
from app.catalog.models import Warehouse
from app.catalog.warehouses import list_warehouses
from resolvers.context import Context


async def all_warehouses(ctx: Context) -> list[Warehouse]:
    return await list_warehouses(ctx.db)


async def by_ids(ctx: Context, keys: Sequence[int]) -> list[Warehouse | None]:
    """One batch for staff who may see inventory; None for everyone else."""
    if not await ctx.can(SEE_INVENTORY):
        return [None] * len(keys)
    return await ctx.loaders.warehouse.load_many(keys)
