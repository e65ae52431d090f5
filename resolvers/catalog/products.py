"""Reading products and variants, with the storefront's visibility rule.

Customers and anonymous callers see PUBLISHED products only; staff see all.
A product that is not visible is reported as missing, like an unknown id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from decimal import Decimal

from app.catalog.availability import product_stock_status, stock_status
from app.catalog.listing import (
    ProductFilter,
    ProductPage,
    ProductSort,
    count_products,
    find_products,
)
from app.catalog.loaders import StockedVariant
from app.catalog.models import Product, ProductStatus, ProductVariant, StockStatus
from app.catalog.products import MAX_TAGS, normalize_tags
from app.errors import ErrorCode, fail
from app.ids import InvalidCursor
from app.money import MoneyFormatError, to_minor
from app.paging import check_page_size
from resolvers.context import Context

_ALL_STATUSES: frozenset[str] = frozenset(ProductStatus)
_PUBLISHED: frozenset[str] = frozenset({ProductStatus.PUBLISHED})


async def visible_statuses(ctx: Context) -> frozenset[str]:
    return _ALL_STATUSES if await ctx.is_staff() else _PUBLISHED


async def _visible(ctx: Context, product: Product | None) -> Product | None:
    if product is None or product.status in await visible_statuses(ctx):
        return product
    return None


async def products_by_ids(ctx: Context, product_ids: Sequence[int]) -> list[Product | None]:
    """One batch; None for products unknown or not visible to the viewer."""
    statuses = await visible_statuses(ctx)
    return [
        product if product is not None and product.status in statuses else None
        for product in await ctx.loaders.product.load_many(product_ids)
    ]


async def product_by_id(ctx: Context, product_id: int) -> Product | None:
    return await _visible(ctx, await ctx.loaders.product.load(product_id))


async def product_by_slug(ctx: Context, slug: str) -> Product | None:
    return await _visible(ctx, await ctx.loaders.product_by_slug.load(slug))


async def variants_by_ids(ctx: Context, variant_ids: Sequence[int]) -> list[ProductVariant | None]:
    """One batch each for the variants and their products; a variant is visible with its
    product."""
    variants = await ctx.loaders.variant.load_many(variant_ids)
    products = await products_by_ids(ctx, [v.product_id for v in variants if v is not None])
    visible = {product.id for product in products if product is not None}
    return [v if v is not None and v.product_id in visible else None for v in variants]


async def variant_by_id(ctx: Context, variant_id: int) -> ProductVariant | None:
    return (await variants_by_ids(ctx, [variant_id]))[0]


def _minor(amount: Decimal | None, currency: str, name: str) -> int | None:
    if amount is None:
        return None
    try:
        return to_minor(amount, currency)
    except MoneyFormatError as exc:
        raise fail(ErrorCode.INVALID, str(exc), "filter", name) from None


async def product_filter(
    ctx: Context,
    *,
    category_slug: str | None = None,
    search: str | None = None,
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    in_stock: bool | None = None,
    tags: list[str] | None = None,
    status: ProductStatus | None = None,
) -> ProductFilter:
    statuses = await visible_statuses(ctx)
    if status is not None:
        statuses = statuses & {status}
    category_ids: tuple[int, ...] | None = None
    if category_slug is not None:
        tree = await ctx.category_tree()
        node = tree.by_slug.get(category_slug)
        # An unknown category has no products, rather than being an error.
        category_ids = tuple(tree.descendant_ids(node.id)) if node else ()
    if search is not None and len(search) > 200:
        raise fail(ErrorCode.INVALID, "search is longer than 200 characters", "filter", "search")
    if tags is not None and len(tags) > MAX_TAGS:
        raise fail(ErrorCode.INVALID, f"filter by at most {MAX_TAGS} tags", "filter", "tags")
    return ProductFilter(
        statuses=statuses,
        category_ids=category_ids,
        search=search,
        min_price=_minor(min_price, ctx.currency, "min_price"),
        max_price=_minor(max_price, ctx.currency, "max_price"),
        in_stock=in_stock,
        tags=tuple(normalize_tags(tags or [])),
    )


async def list_products(
    ctx: Context, flt: ProductFilter, sort: ProductSort, first: int, after: str | None
) -> ProductPage:
    check_page_size(first)
    try:
        return await find_products(ctx.db, flt, sort, first, after)
    except InvalidCursor as exc:
        raise fail(ErrorCode.INVALID, str(exc), "after") from None


async def total_products(ctx: Context, flt: ProductFilter) -> int:
    return await count_products(ctx.db, flt)


async def variant_stock_status(ctx: Context, variant: ProductVariant) -> StockStatus:
    assert variant.id is not None
    available = await ctx.loaders.available_by_variant.load(variant.id)
    return stock_status(available, variant.low_stock_threshold)


async def quantity_available(ctx: Context, variant: ProductVariant) -> int:
    assert variant.id is not None
    return max(0, await ctx.loaders.available_by_variant.load(variant.id))


async def product_variants(ctx: Context, product_id: int) -> list[StockedVariant]:
    stocked = await ctx.loaders.variants_by_product.load(product_id)
    for item in stocked:  # later availability lookups in this request are free
        ctx.loaders.available_by_variant.prime(item.variant.id, item.available)
    return stocked


async def prefetch(ctx: Context, product_ids: list[int], fields: set[str]) -> None:
    """Load, in one batch each, the relations these products' selected fields will ask for.

    Their resolvers then answer from `ctx.ready_*` without awaiting: with a hundred
    products, hundreds of awaits per request are what a listing would spend most on.
    """
    jobs: list[Awaitable[object]] = []
    if fields & {"variants", "stockStatus"}:
        jobs.append(_prefetch_variants(ctx, product_ids))
    if fields & {"images", "thumbnail"}:
        jobs.append(_prefetch_images(ctx, product_ids))
    if "category" in fields:
        jobs.append(ctx.category_tree())
    await asyncio.gather(*jobs)


async def _prefetch_variants(ctx: Context, product_ids: list[int]) -> None:
    for product_id, stocked in zip(
        product_ids, await ctx.loaders.variants_by_product.load_many(product_ids), strict=True
    ):
        ctx.ready_variants[product_id] = stocked
        for item in stocked:
            ctx.loaders.available_by_variant.prime(item.variant.id, item.available)


async def _prefetch_images(ctx: Context, product_ids: list[int]) -> None:
    images = await ctx.loaders.images_by_product.load_many(product_ids)
    ctx.ready_images.update(zip(product_ids, images, strict=True))


def availability_of(stocked: list[StockedVariant]) -> StockStatus:
    return product_stock_status(
        stock_status(item.available, item.variant.low_stock_threshold) for item in stocked
    )


async def product_availability(ctx: Context, product_id: int) -> StockStatus:
    return availability_of(await product_variants(ctx, product_id))


async def recommendations(ctx: Context, product_id: int, first: int) -> list[Product]:
    if not 0 <= first <= 20:
        raise fail(ErrorCode.INVALID, "first must be between 0 and 20", "first")
    if first == 0:
        return []
    products = await ctx.loaders.recommendations.load((product_id, first))
    for product in products:  # later product(id) lookups in this request are free
        ctx.loaders.product.prime(product.id, product)
    return products
