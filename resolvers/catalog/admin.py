"""Back-office catalog writes: from the request to `app.catalog` services.

Permissions are declared on the schema fields (`handles_errors`); these only
pass the request's clock, currency and cache along.
"""

from __future__ import annotations

from app.catalog import categories, products
from app.catalog.models import Category, Product, ProductStatus, ProductVariant
from app.inventory import levels
from app.inventory.models import Stock
from resolvers.context import Context


async def create_product(
    ctx: Context, changes: products.ProductChanges, variants: list[products.VariantChanges]
) -> Product:
    return await products.create_product(ctx.db, ctx.currency, changes, variants, ctx.now())


async def update_product(
    ctx: Context, product_id: int, changes: products.ProductChanges
) -> Product:
    product = await products.update_product(ctx.db, ctx.cache, product_id, changes, ctx.now())
    ctx.forget_category_tree()
    return product


async def set_product_status(ctx: Context, product_id: int, status: ProductStatus) -> Product:
    product = await products.set_product_status(ctx.db, ctx.cache, product_id, status, ctx.now())
    ctx.forget_category_tree()
    return product


async def update_variant(
    ctx: Context, variant_id: int, changes: products.VariantChanges
) -> ProductVariant:
    return await products.update_variant(ctx.db, ctx.currency, variant_id, changes, ctx.now())


async def set_stock(ctx: Context, variant_id: int, warehouse_id: int, quantity: int) -> Stock:
    return await levels.set_level(
        await ctx.session(), variant_id, warehouse_id, quantity, ctx.now()
    )


async def create_category(ctx: Context, changes: categories.CategoryChanges) -> Category:
    category = await categories.create_category(ctx.db, ctx.cache, changes, ctx.now())
    ctx.forget_category_tree()
    return category


async def update_category(
    ctx: Context, category_id: int, changes: categories.CategoryChanges
) -> Category:
    category = await categories.update_category(ctx.db, ctx.cache, category_id, changes, ctx.now())
    ctx.forget_category_tree()
    return category
