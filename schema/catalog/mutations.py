"""Back-office catalog mutations; each declares the permission it needs."""

from __future__ import annotations

import strawberry

from app import ids
from app.accounts.permissions import Permission
from app.catalog.models import ProductStatus
from resolvers.catalog import admin
from schema.access import mutation, staff
from schema.catalog.inputs import (
    CategoryInput,
    ProductCreateInput,
    ProductUpdateInput,
    VariantUpdateInput,
    WarehouseInput,
)
from schema.catalog.types import Category, Product, ProductVariant, Stock, Warehouse
from schema.common import CtxInfo, Payload, decode_id

MANAGE_PRODUCTS = staff(Permission.MANAGE_PRODUCTS)


@strawberry.type
class ProductPayload(Payload):
    product: Product | None = None


@strawberry.type
class VariantPayload(Payload):
    variant: ProductVariant | None = None


@strawberry.type
class StockPayload(Payload):
    stock: Stock | None = None


@strawberry.type
class CategoryPayload(Payload):
    category_pk: strawberry.Private[int | None] = None

    @strawberry.field
    async def category(self, info: CtxInfo) -> Category | None:
        if self.category_pk is None:
            return None
        # Resolved once the mutation has committed: the tree read now holds the change.
        return Category.find(await info.context.category_tree(), self.category_pk)


@strawberry.type
class WarehousePayload(Payload):
    warehouse: Warehouse | None = None


async def _set_status(info: CtxInfo, id: strawberry.ID, status: ProductStatus) -> ProductPayload:
    row = await admin.set_product_status(info.context, decode_id(id, ids.PRODUCT, "id"), status)
    return ProductPayload(product=Product.from_model(row, info.context.currency))


@strawberry.type
class CatalogMutation:
    @mutation(MANAGE_PRODUCTS, "A new DRAFT product with its variants and stock.")
    async def product_create(self, info: CtxInfo, input: ProductCreateInput) -> ProductPayload:
        changes, variants = input.to_changes()
        row = await admin.create_product(info.context, changes, variants)
        return ProductPayload(product=Product.from_model(row, info.context.currency))

    @mutation(MANAGE_PRODUCTS)
    async def product_update(
        self, info: CtxInfo, id: strawberry.ID, input: ProductUpdateInput
    ) -> ProductPayload:
        row = await admin.update_product(
            info.context, decode_id(id, ids.PRODUCT, "id"), input.to_changes()
        )
        return ProductPayload(product=Product.from_model(row, info.context.currency))

    @mutation(MANAGE_PRODUCTS, "Make a product visible in the storefront (it needs a variant).")
    async def product_publish(self, info: CtxInfo, id: strawberry.ID) -> ProductPayload:
        return await _set_status(info, id, ProductStatus.PUBLISHED)

    @mutation(MANAGE_PRODUCTS, "Take a product out of the storefront (back to DRAFT).")
    async def product_unpublish(self, info: CtxInfo, id: strawberry.ID) -> ProductPayload:
        return await _set_status(info, id, ProductStatus.DRAFT)

    @mutation(MANAGE_PRODUCTS, "Retire a product; it leaves the storefront.")
    async def product_archive(self, info: CtxInfo, id: strawberry.ID) -> ProductPayload:
        return await _set_status(info, id, ProductStatus.ARCHIVED)

    @mutation(MANAGE_PRODUCTS)
    async def variant_update(
        self, info: CtxInfo, id: strawberry.ID, input: VariantUpdateInput
    ) -> VariantPayload:
        row = await admin.update_variant(
            info.context, decode_id(id, ids.PRODUCT_VARIANT, "id"), input.to_changes()
        )
        return VariantPayload(variant=ProductVariant.from_model(row, info.context.currency))

    @mutation(MANAGE_PRODUCTS, "Set the units on hand of a variant in a warehouse.")
    async def stock_set(
        self, info: CtxInfo, variant_id: strawberry.ID, warehouse_id: strawberry.ID, quantity: int
    ) -> StockPayload:
        row = await admin.set_stock(
            info.context,
            decode_id(variant_id, ids.PRODUCT_VARIANT, "variant_id"),
            decode_id(warehouse_id, ids.WAREHOUSE, "warehouse_id"),
            quantity,
        )
        return StockPayload(stock=Stock.from_model(row))

    @mutation(MANAGE_PRODUCTS)
    async def category_create(self, info: CtxInfo, input: CategoryInput) -> CategoryPayload:
        row = await admin.create_category(info.context, input.to_changes())
        return CategoryPayload(category_pk=row.id)

    @mutation(MANAGE_PRODUCTS)
    async def category_update(
        self, info: CtxInfo, id: strawberry.ID, input: CategoryInput
    ) -> CategoryPayload:
        row = await admin.update_category(
            info.context, decode_id(id, ids.CATEGORY, "id"), input.to_changes()
        )
        return CategoryPayload(category_pk=row.id)

    @mutation(MANAGE_PRODUCTS)
    async def warehouse_create(self, info: CtxInfo, input: WarehouseInput) -> WarehousePayload:
        row = await admin.create_warehouse(info.context, input.name, input.code)
        return WarehousePayload(warehouse=Warehouse.from_model(row))
