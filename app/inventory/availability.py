"""What can still be sold, per variant over all warehouses (`Stock.available` summed)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ScalarSelect, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.inventory.models import Stock


def units_of(variant_id: Any) -> ScalarSelect[int]:
    """The units available of the variant `variant_id` (a column of the outer query), as a
    correlated subquery: for listings that show availability in the same statement."""
    return (
        select(func.coalesce(func.sum(Stock.available), 0))
        .where(col(Stock.variant_id) == variant_id)
        .scalar_subquery()
    )


async def available_units(session: AsyncSession, variant_ids: Collection[int]) -> dict[int, int]:
    """Units that can still be sold per variant, over all warehouses (on hand minus held)."""
    if not variant_ids:
        return {}
    rows = await session.exec(
        select(Stock.variant_id, func.sum(Stock.available))
        .where(col(Stock.variant_id).in_(variant_ids))
        .group_by(col(Stock.variant_id))
    )
    return {variant_id: int(total or 0) for variant_id, total in rows.all()}
