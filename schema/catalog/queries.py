"""Catalog queries: products, product, categories, category, warehouses."""

from __future__ import annotations

from typing import Annotated

import strawberry

from app import ids
from app.accounts.permissions import SEE_INVENTORY
from app.catalog.listing import ProductSort as DomainSort
from resolvers.catalog import products as resolve
from resolvers.catalog import warehouses as resolve_warehouses
from schema.access import PUBLIC, query, staff
from schema.catalog.inputs import ProductFilter, ProductSort
from schema.catalog.types import Category, Product, ProductConnection, Warehouse
from schema.common import CtxInfo, selected_under


@strawberry.type
class CatalogQuery:
    @query(
        PUBLIC, "Products, newest first unless sorted otherwise. Customers see PUBLISHED ones only."
    )
    async def products(
        self,
        info: CtxInfo,
        first: Annotated[int, strawberry.argument(description="At most 100.")],
        after: str | None = None,
        filter: ProductFilter | None = None,
        sort: Annotated[
            ProductSort,  # type: ignore[valid-type]
            strawberry.argument(
                description="RELEVANCE ranks by the search words (NEWEST without them)."
            ),
        ] = DomainSort.NEWEST,
    ) -> ProductConnection:
        ctx = info.context
        f = filter or ProductFilter()
        flt = await resolve.product_filter(
            ctx,
            category_slug=f.category_slug,
            search=f.search,
            min_price=f.min_price,
            max_price=f.max_price,
            in_stock=f.in_stock,
            tags=f.tags,
            status=f.status,
        )
        page = await resolve.list_products(ctx, flt, DomainSort(sort), first, after)
        fields = selected_under(info, "edges", "node")
        await resolve.prefetch(ctx, [p.id for p in page.products if p.id is not None], fields)
        return ProductConnection.from_page(page, flt, ctx.currency)

    @query(PUBLIC, "A product by slug or id; null when there is none (or it is not published).")
    async def product(
        self, info: CtxInfo, slug: str | None = None, id: strawberry.ID | None = None
    ) -> Product | None:
        ctx = info.context
        if slug is not None:
            row = await resolve.product_by_slug(ctx, slug)
        elif id is not None:
            pk = ids.PRODUCT.decode(id)
            row = await resolve.product_by_id(ctx, pk) if pk is not None else None
        else:
            return None
        if row is None or row.id is None:
            return None
        await resolve.prefetch(ctx, [row.id], selected_under(info))
        return Product.from_model(row, ctx.currency)

    @query(PUBLIC, "Every category, parents before their children.")
    async def categories(self, info: CtxInfo) -> list[Category]:
        tree = await info.context.category_tree()
        return [Category.from_node(node, tree) for node in tree.ordered()]

    @query(PUBLIC)
    async def category(self, info: CtxInfo, slug: str) -> Category | None:
        tree = await info.context.category_tree()
        node = tree.by_slug.get(slug)
        return Category.from_node(node, tree) if node else None

    @query(staff(SEE_INVENTORY))
    async def warehouses(self, info: CtxInfo) -> list[Warehouse]:
        return [
            Warehouse.from_model(w) for w in await resolve_warehouses.all_warehouses(info.context)
        ]
