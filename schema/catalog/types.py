"""Catalog object types. Scalar fields are plain attributes; relations go through loaders."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app import ids
from app.accounts.permissions import SEE_INVENTORY
from app.catalog import models
from app.catalog.availability import stock_status
from app.catalog.categories import CategoryNode, CategoryTree
from app.catalog.listing import ProductFilter, ProductPage
from app.catalog.loaders import StockedVariant
from app.inventory import models as inventory
from resolvers.catalog import products as resolve
from schema.common import CtxInfo, Money, Node, PageInfo, node_id

ProductStatus = strawberry.enum(models.ProductStatus, name="ProductStatus")
StockStatus = strawberry.enum(
    models.StockStatus,
    name="StockStatus",
    description="IN_STOCK; LOW_STOCK when available units are at or under the variant's "
    "low-stock threshold; OUT_OF_STOCK at zero.",
)


@strawberry.type
class Attribute:
    name: str
    value: str


def _attributes(rows: list[dict[str, str]]) -> list[Attribute]:
    return [Attribute(name=a["name"], value=a["value"]) for a in rows]


@strawberry.type
class Image:
    url: str
    alt: str


@strawberry.type
class PriceRange:
    min: Money
    max: Money


@strawberry.type
class Warehouse(Node):
    id: strawberry.ID
    name: str
    code: str

    @classmethod
    def from_model(cls, row: models.Warehouse) -> Warehouse:
        return cls(id=node_id(ids.WAREHOUSE, row.id or 0), name=row.name, code=row.code)


@strawberry.type(description="Units of a variant in one warehouse.")
class Stock:
    quantity: int
    reserved: int = strawberry.field(description="Units held for carts and not yet sold.")
    available: int
    warehouse_pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, row: inventory.Stock) -> Stock:
        return cls(
            quantity=row.quantity,
            reserved=row.reserved,
            available=row.available,
            warehouse_pk=row.warehouse_id,
        )

    @strawberry.field
    async def warehouse(self, info: CtxInfo) -> Warehouse | None:
        row = await info.context.loaders.warehouse.load(self.warehouse_pk)
        return Warehouse.from_model(row) if row else None


@strawberry.type
class Category(Node):
    id: strawberry.ID
    name: str
    slug: str
    description: str
    product_count: int = strawberry.field(
        description="Published products in this category and all categories under it."
    )
    pk: strawberry.Private[int]
    parent_pk: strawberry.Private[int | None]
    tree: strawberry.Private[CategoryTree]

    @classmethod
    def from_node(cls, node: CategoryNode, tree: CategoryTree) -> Category:
        return cls(
            id=node_id(ids.CATEGORY, node.id),
            name=node.name,
            slug=node.slug,
            description=node.description,
            product_count=node.product_count,
            pk=node.id,
            parent_pk=node.parent_id,
            tree=tree,
        )

    @classmethod
    def find(cls, tree: CategoryTree, category_id: int) -> Category | None:
        node = tree.get(category_id)
        return cls.from_node(node, tree) if node else None

    @strawberry.field
    def parent(self) -> Category | None:
        return Category.find(self.tree, self.parent_pk) if self.parent_pk is not None else None

    @strawberry.field
    def children(self) -> list[Category]:
        node = self.tree.get(self.pk)
        children = node.children if node else []
        return [Category.from_node(self.tree.nodes[c], self.tree) for c in children]

    @strawberry.field(description="From the root down to the parent.")
    def ancestors(self) -> list[Category]:
        return [Category.from_node(n, self.tree) for n in self.tree.ancestors(self.pk)]


@strawberry.type
class ProductVariant(Node):
    id: strawberry.ID
    sku: str
    name: str
    attributes: list[Attribute]
    price: Money
    compare_at_price: Money | None
    weight_grams: int
    low_stock_threshold: int
    reserve_on_add: bool
    row: strawberry.Private[models.ProductVariant]
    # Units on sale now when the variant was loaded with them (product listings).
    available: strawberry.Private[int | None] = None

    @classmethod
    def from_model(
        cls, row: models.ProductVariant, currency: str, available: int | None = None
    ) -> ProductVariant:
        return cls(
            id=node_id(ids.PRODUCT_VARIANT, row.id or 0),
            sku=row.sku,
            name=row.name,
            attributes=_attributes(row.attributes),
            price=Money.of(row.price, currency),
            compare_at_price=Money.maybe(row.compare_at_price, currency),
            weight_grams=row.weight_grams,
            low_stock_threshold=row.low_stock_threshold,
            reserve_on_add=row.reserve_on_add,
            row=row,
            available=available,
        )

    # These two answer at once when the availability came with the variant and only
    # otherwise hand graphql-core an awaitable (an async field costs every time).
    @strawberry.field
    def stock_status(self, info: CtxInfo) -> StockStatus:  # type: ignore[valid-type]
        if self.available is not None:
            return stock_status(self.available, self.row.low_stock_threshold)
        return resolve.variant_stock_status(info.context, self.row)  # type: ignore[return-value]

    @strawberry.field(description="Units that can be bought now, over all warehouses.")
    def quantity_available(self, info: CtxInfo) -> int:
        if self.available is not None:
            return max(0, self.available)
        return resolve.quantity_available(info.context, self.row)  # type: ignore[return-value]

    @strawberry.field
    async def product(self, info: CtxInfo) -> Product | None:
        row = await resolve.product_by_id(info.context, self.row.product_id)
        return Product.from_model(row, info.context.currency) if row else None

    @strawberry.field(
        description="Stock per warehouse. Staff with MANAGE_PRODUCTS only; empty for others."
    )
    async def stocks(self, info: CtxInfo) -> list[Stock]:
        if not await info.context.can(SEE_INVENTORY):
            return []
        assert self.row.id is not None
        return [
            Stock.from_model(s)
            for s in await info.context.loaders.stocks_by_variant.load(self.row.id)
        ]


@strawberry.type
class Product(Node):
    id: strawberry.ID
    name: str
    slug: str
    description: str
    seo_title: str
    seo_description: str
    status: ProductStatus  # type: ignore[valid-type]
    attributes: list[Attribute]
    price_range: PriceRange | None = strawberry.field(
        description="Cheapest and dearest variant price; null without variants."
    )
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    pk: strawberry.Private[int]
    category_pk: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, row: models.Product, currency: str) -> Product:
        price_range = None
        if row.min_price is not None and row.max_price is not None:
            price_range = PriceRange(
                min=Money.of(row.min_price, currency), max=Money.of(row.max_price, currency)
            )
        return cls(
            id=node_id(ids.PRODUCT, row.id or 0),
            name=row.name,
            slug=row.slug,
            description=row.description,
            seo_title=row.seo_title,
            seo_description=row.seo_description,
            status=row.status,
            attributes=_attributes(row.attributes),
            price_range=price_range,
            created_at=row.created_at,
            updated_at=row.updated_at,
            published_at=row.published_at,
            pk=row.id or 0,
            category_pk=row.category_id,
        )

    @strawberry.field
    def category(self, info: CtxInfo) -> Category | None:
        if self.category_pk is None:
            return None
        # Listings load the tree up front, so this is usually answered without awaiting.
        tree = info.context.loaded_category_tree()
        if tree is not None:
            return Category.find(tree, self.category_pk)
        return self._category_later(info)  # type: ignore[return-value]

    async def _category_later(self, info: CtxInfo) -> Category | None:
        assert self.category_pk is not None
        return Category.find(await info.context.category_tree(), self.category_pk)

    # The relations below answer at once when the listing prefetched them
    # (`resolve.prefetch`) and hand graphql-core an awaitable only otherwise.
    @strawberry.field
    def variants(self, info: CtxInfo) -> list[ProductVariant]:
        stocked = info.context.ready_variants.get(self.pk)
        if stocked is not None:
            return _variants(stocked, info.context.currency)
        return self._variants_later(info)  # type: ignore[return-value]

    async def _variants_later(self, info: CtxInfo) -> list[ProductVariant]:
        return _variants(
            await resolve.product_variants(info.context, self.pk), info.context.currency
        )

    @strawberry.field
    def images(self, info: CtxInfo) -> list[Image]:
        rows = info.context.ready_images.get(self.pk)
        if rows is not None:
            return [Image(url=i.url, alt=i.alt) for i in rows]
        return self._images_later(info)  # type: ignore[return-value]

    async def _images_later(self, info: CtxInfo) -> list[Image]:
        rows = await info.context.loaders.images_by_product.load(self.pk)
        return [Image(url=i.url, alt=i.alt) for i in rows]

    @strawberry.field(description="The first image.")
    def thumbnail(self, info: CtxInfo) -> Image | None:
        rows = info.context.ready_images.get(self.pk)
        if rows is not None:
            return Image(url=rows[0].url, alt=rows[0].alt) if rows else None
        return self._thumbnail_later(info)  # type: ignore[return-value]

    async def _thumbnail_later(self, info: CtxInfo) -> Image | None:
        rows = await info.context.loaders.images_by_product.load(self.pk)
        return Image(url=rows[0].url, alt=rows[0].alt) if rows else None

    @strawberry.field
    async def tags(self, info: CtxInfo) -> list[str]:
        return await info.context.loaders.tags_by_product.load(self.pk)

    @strawberry.field(description="IN_STOCK if any variant is, else LOW_STOCK if any is.")
    def stock_status(self, info: CtxInfo) -> StockStatus:  # type: ignore[valid-type]
        stocked = info.context.ready_variants.get(self.pk)
        if stocked is not None:
            return resolve.availability_of(stocked)
        return resolve.product_availability(info.context, self.pk)  # type: ignore[return-value]

    @strawberry.field(description="Published products of the same category that match best.")
    async def recommendations(
        self,
        info: CtxInfo,
        first: Annotated[int, strawberry.argument(description="At most 20.")] = 4,
    ) -> list[Product]:
        rows = await resolve.recommendations(info.context, self.pk, first)
        return [Product.from_model(p, info.context.currency) for p in rows]


def _variants(stocked: list[StockedVariant], currency: str) -> list[ProductVariant]:
    return [ProductVariant.from_model(s.variant, currency, s.available) for s in stocked]


@strawberry.type
class ProductEdge:
    cursor: str
    node: Product


@strawberry.type
class ProductConnection:
    edges: list[ProductEdge]
    page_info: PageInfo
    filter: strawberry.Private[ProductFilter]

    @classmethod
    def from_page(cls, page: ProductPage, flt: ProductFilter, currency: str) -> ProductConnection:
        edges = [
            ProductEdge(cursor=c, node=Product.from_model(p, currency))
            for p, c in zip(page.products, page.cursors, strict=True)
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=False,
                start_cursor=page.cursors[0] if page.cursors else None,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
            filter=flt,
        )

    @strawberry.field(description="All products that match the filter (counted only when asked).")
    async def total_count(self, info: CtxInfo) -> int:
        return await resolve.total_products(info.context, self.filter)
