"""Back-office catalog writes: from the request to `app.catalog` services.

Access is declared on the schema fields (`schema.access`); these pass the
mutation's write session (`ctx.session()`), clock, currency and cache along.
The category tree this request read before the write is forgotten: what the
payload shows is read after the commit.
"""

from __future__ import annotations

from app.catalog import categories, products, warehouses
from app.catalog.models import Category, Product, ProductStatus, ProductVariant, Warehouse
from app.inventory import levels
from app.inventory.models import Stock
from resolvers.context import Context


async def create_product(
    ctx: Context, changes: products.ProductChanges, variants: list[products.VariantChanges]
) -> Product:
    return await products.create_product(
        await ctx.session(), ctx.currency, changes, variants, ctx.now()
    )


async def update_product(
    ctx: Context, product_id: int, changes: products.ProductChanges
) -> Product:
    product = await products.update_product(
        await ctx.session(), ctx.cache, product_id, changes, ctx.now()
    )
    ctx.forget_category_tree()
    return product


async def set_product_status(ctx: Context, product_id: int, status: ProductStatus) -> Product:
    product = await products.set_product_status(
        await ctx.session(), ctx.cache, product_id, status, ctx.now()
    )
    ctx.forget_category_tree()
    return product


async def update_variant(
    ctx: Context, variant_id: int, changes: products.VariantChanges
) -> ProductVariant:
    return await products.update_variant(
        await ctx.session(), ctx.currency, variant_id, changes, ctx.now()
    )


async def set_stock(ctx: Context, variant_id: int, warehouse_id: int, quantity: int) -> Stock:
    return await levels.set_level(
        await ctx.session(), variant_id, warehouse_id, quantity, ctx.now()
    )


async def create_category(ctx: Context, changes: categories.CategoryChanges) -> Category:
    category = await categories.create_category(await ctx.session(), ctx.cache, changes, ctx.now())
    ctx.forget_category_tree()
    return category


async def update_category(
    ctx: Context, category_id: int, changes: categories.CategoryChanges
) -> Category:
    category = await categories.update_category(
        await ctx.session(), ctx.cache, category_id, changes, ctx.now()
    )
    ctx.forget_category_tree()
    return category


async def create_warehouse(ctx: Context, name: str, code: str) -> Warehouse:
    return await warehouses.create_warehouse(await ctx.session(), name, code, ctx.now())
