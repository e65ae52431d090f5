"""What a cart holds: its lines, and the variants (with their products) they are for."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.cart.models import CartLine
from app.catalog.models import Product, ProductStatus, ProductVariant

MAX_LINE_QUANTITY = 99
MAX_LINES = 100

VariantsById = dict[int, tuple[ProductVariant, Product]]


async def lines_of(session: AsyncSession, cart_id: int) -> list[CartLine]:
    rows = await session.exec(
        select(CartLine).where(CartLine.cart_id == cart_id).order_by(col(CartLine.id))
    )
    return list(rows.all())


async def variants_of(session: AsyncSession, variant_ids: Collection[int]) -> VariantsById:
    if not variant_ids:
        return {}
    rows = await session.exec(
        select(ProductVariant, Product)
        .join(Product, col(Product.id) == col(ProductVariant.product_id))
        .where(col(ProductVariant.id).in_(variant_ids))
    )
    return {variant.id: (variant, product) for variant, product in rows.all()}  # type: ignore[misc]


def on_sale(product: Product) -> bool:
    """Only published products can be added to a cart, merged into one or ordered."""
    return product.status == ProductStatus.PUBLISHED


async def add_lines(
    session: AsyncSession, cart_id: int, quantities: Mapping[int, int], now: datetime
) -> dict[int, int]:
    """New lines (quantity per variant) in one statement; their ids by variant."""
    if not quantities:
        return {}
    rows = await session.exec(  # type: ignore[call-overload]
        insert(CartLine)
        .values(
            [
                {"cart_id": cart_id, "variant_id": v, "quantity": q, "created_at": now}
                for v, q in quantities.items()
            ]
        )
        .returning(CartLine.variant_id, CartLine.id)
    )
    return dict(rows.all())
