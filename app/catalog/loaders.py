"""Batch loads for the catalog: one SQL statement per relation per request.

Each function takes many keys and returns one result per key, in key order,
as aiodataloader expects. Each opens its own short session, because sibling
resolvers run concurrently and a session cannot be shared between them.
Visibility (published or not) is decided by the caller, not here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.catalog.models import (
    Product,
    ProductImage,
    ProductStatus,
    ProductTag,
    ProductVariant,
)
from app.database import Database
from app.inventory.availability import available_units, units_of
from app.inventory.models import Stock

K = TypeVar("K")
R = TypeVar("R")

MAX_RECOMMENDATIONS = 20


def _by_key(keys: Sequence[K], rows: dict[K, R], default: Any = None) -> list[R]:
    return [rows.get(k, default) for k in keys]


def _grouped(keys: Sequence[K], pairs: list[tuple[K, R]]) -> list[list[R]]:
    groups: dict[K, list[R]] = defaultdict(list)
    for key, value in pairs:
        groups[key].append(value)
    return [groups.get(k, []) for k in keys]


@dataclass(frozen=True, slots=True)
class StockedVariant:
    """A variant with the units that can be sold now (on hand minus held, all warehouses)."""

    variant: ProductVariant
    available: int


async def variants_by_product(
    db: Database, product_ids: Sequence[int]
) -> list[list[StockedVariant]]:
    # Availability comes in the same statement: every listing shows a stock status.
    available = units_of(col(ProductVariant.id)).correlate(ProductVariant)
    async with db.session() as session:
        rows = (
            await session.exec(
                select(ProductVariant, available)
                .where(col(ProductVariant.product_id).in_(product_ids))
                .order_by(
                    col(ProductVariant.product_id),
                    col(ProductVariant.position),
                    col(ProductVariant.id),
                )
            )
        ).all()
    return _grouped(
        product_ids, [(v.product_id, StockedVariant(v, int(units))) for v, units in rows]
    )


async def images_by_product(db: Database, product_ids: Sequence[int]) -> list[list[ProductImage]]:
    async with db.session() as session:
        rows = (
            (
                await session.exec(
                    select(ProductImage)
                    .where(col(ProductImage.product_id).in_(product_ids))
                    .order_by(
                        col(ProductImage.product_id),
                        col(ProductImage.position),
                        col(ProductImage.id),
                    )
                )
            )
            .scalars()
            .all()
        )
    return _grouped(product_ids, [(i.product_id, i) for i in rows])


async def tags_by_product(db: Database, product_ids: Sequence[int]) -> list[list[str]]:
    async with db.session() as session:
        rows = (
            await session.exec(
                select(ProductTag.product_id, ProductTag.tag)
                .where(col(ProductTag.product_id).in_(product_ids))
                .order_by(col(ProductTag.product_id), col(ProductTag.tag))
            )
        ).all()
    return _grouped(product_ids, [(pid, tag) for pid, tag in rows])


async def available_by_variant(db: Database, variant_ids: Sequence[int]) -> list[int]:
    async with db.session() as session:
        found = await available_units(session, variant_ids)
    return _by_key(variant_ids, found, 0)


async def stocks_by_variant(db: Database, variant_ids: Sequence[int]) -> list[list[Stock]]:
    async with db.session() as session:
        rows = (
            (
                await session.exec(
                    select(Stock)
                    .where(col(Stock.variant_id).in_(variant_ids))
                    .order_by(col(Stock.variant_id), col(Stock.warehouse_id))
                )
            )
            .scalars()
            .all()
        )
    return _grouped(variant_ids, [(s.variant_id, s) for s in rows])


async def recommendations(db: Database, keys: Sequence[tuple[int, int]]) -> list[list[Product]]:
    """For (product id, how many): published products of the same category, best first.

    Best = most tags in common, then the closest price, then the newest. One
    statement for every product asked about, ranked with a window function.
    """
    limit = min(max(n for _, n in keys), MAX_RECOMMENDATIONS)
    source = aliased(Product, name="source")
    other = aliased(Product, name="other")
    tag_a = aliased(ProductTag, name="tag_a")
    tag_b = aliased(ProductTag, name="tag_b")
    shared_tags = (
        select(func.count())
        .select_from(tag_a)
        .join(tag_b, col(tag_b.tag) == col(tag_a.tag))
        .where(col(tag_a.product_id) == col(source.id), col(tag_b.product_id) == col(other.id))
        .scalar_subquery()
    )
    price_gap = func.abs(
        func.coalesce(col(other.min_price), 0) - func.coalesce(col(source.min_price), 0)
    )
    rank = (
        func.row_number()
        .over(
            partition_by=col(source.id),
            order_by=(
                shared_tags.desc(),
                price_gap.asc(),
                col(other.created_at).desc(),
                col(other.id).desc(),
            ),
        )
        .label("rank")
    )
    ranked = (
        select(col(source.id).label("source_id"), col(other.id).label("product_id"), rank)
        .select_from(source)
        .join(
            other,
            (col(other.category_id) == col(source.category_id))
            & (col(other.id) != col(source.id))
            & (col(other.status) == ProductStatus.PUBLISHED),
        )
        .where(col(source.id).in_({pid for pid, _ in keys}))
        .subquery("ranked")
    )
    statement = (
        select(ranked.c.source_id, ranked.c.rank, Product)
        .join(Product, col(Product.id) == ranked.c.product_id)
        .where(ranked.c.rank <= limit)
        .order_by(ranked.c.source_id, ranked.c.rank)
    )
    async with db.session() as session:
        rows = (await session.exec(statement)).all()
    found: dict[int, list[Product]] = defaultdict(list)
    for source_id, _rank, product in rows:
        found[source_id].append(product)
    return [found.get(pid, [])[: min(n, MAX_RECOMMENDATIONS)] for pid, n in keys]
