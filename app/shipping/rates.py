"""What a shipping method costs for a cart, and whom it serves."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.shipping.models import ShippingMethod

GRAMS_PER_KG = 1000


def quote(method: ShippingMethod, weight_grams: int, subtotal: int) -> int:
    """The fee: free over `free_over`, else the base fee plus per started kilogram."""
    if method.free_over is not None and subtotal >= method.free_over:
        return 0
    started_kg = -(-weight_grams // GRAMS_PER_KG)
    return method.base_fee + method.per_kg_fee * started_kg


def serves(method: ShippingMethod, country: str | None) -> bool:
    return method.active and country is not None and country in method.countries


async def active_methods(session: AsyncSession) -> list[ShippingMethod]:
    rows = await session.exec(
        select(ShippingMethod)
        .where(col(ShippingMethod.active).is_(True))
        .order_by(col(ShippingMethod.base_fee), col(ShippingMethod.id))
    )
    return list(rows.all())
