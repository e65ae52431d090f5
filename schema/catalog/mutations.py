"""Back-office catalog mutations. Each declares its permission in `handles_errors`."""

from __future__ import annotations

import strawberry

from app.accounts.permissions import Permission
from app.catalog.models import ProductStatus
from resolvers.catalog import admin
from resolvers.catalog import warehouses as resolve_warehouses
from schema.catalog.inputs import (
    CategoryInput,
    ProductCreateInput,
    ProductUpdateInput,
    VariantUpdateInput,
    WarehouseInput,
)
from schema.catalog.types import Category, Product, ProductVariant, Stock, Warehouse
from schema.common import CtxInfo, UserError, decode_id
from schema.mutations import handles_errors


def _errors() -> list[UserError]:
    return strawberry.field(default_factory=list)  # type: ignore[return-value]


@strawberry.type
class ProductPayload:
    product: Product | None = None
    user_errors: list[UserError] = _errors()


@strawberry.type
class VariantPayload:
    variant: ProductVariant | None = None
    user_errors: list[UserError] = _errors()


@strawberry.type
class StockPayload:
    stock: Stock | None = None
    user_errors: list[UserError] = _errors()


@strawberry.type
class CategoryPayload:
    category: Category | None = None
    user_errors: list[UserError] = _errors()


@strawberry.type
class WarehousePayload:
    warehouse: Warehouse | None = None
    user_errors: list[UserError] = _errors()


async def _category(info: CtxInfo, category_id: int) -> Category | None:
    tree = await info.context.category_tree()
    node = tree.get(category_id)
    return Category.from_node(node, tree) if node else None


async def _set_status(info: CtxInfo, id: strawberry.ID, status: ProductStatus) -> ProductPayload:
    row = await admin.set_product_status(info.context, decode_id(id, "Product", "id"), status)
    return ProductPayload(product=Product.from_model(row, info.context.currency))


@strawberry.type
class CatalogMutation:
    @strawberry.mutation(description="A new DRAFT product with its variants and stock.")
    @handles_errors(Permission.MANAGE_PRODUCTS)
    async def product_create(self, info: CtxInfo, input: ProductCreateInput) -> ProductPayload:
        changes, variants = input.to_changes()
        row = await admin.create_product(info.context, changes, variants)
        return ProductPayload(product=Product.from_model(row, info.context.currency))

    @strawberry.mutation
    @handles_errors(Permission.MANAGE_PRODUCTS)
    async def product_update(
        self, info: CtxInfo, id: strawberry.ID, input: ProductUpdateInput
    ) -> ProductPayload:
        row = await admin.update_product(
            info.context, decode_id(id, "Product", "id"), input.to_changes()
        )
        return ProductPayload(product=Product.from_model(row, info.context.currency))

    @strawberry.mutation(
        description="Make a product visible in the storefront (it needs a variant)."
    )
    @handles_errors(Permission.MANAGE_PRODUCTS)
    async def product_publish(self, info: CtxInfo, id: strawberry.ID) -> ProductPayload:
        return await _set_status(info, id, ProductStatus.PUBLISHED)

    @strawberry.mutation(description="Take a product out of the storefront (back to DRAFT).")
    @handles_errors(Permission.MANAGE_PRODUCTS)
    async def product_unpublish(self, info: CtxInfo, id: strawberry.ID) -> ProductPayload:
        return await _set_status(info, id, ProductStatus.DRAFT)

    @strawberry.mutation(description="Retire a product; it leaves the storefront.")
    @handles_errors(Permission.MANAGE_PRODUCTS)
    async def product_archive(self, info: CtxInfo, id: strawberry.ID) -> ProductPayload:
        return await _set_status(info, id, ProductStatus.ARCHIVED)

    @strawberry.mutation
    @handles_errors(Permission.MANAGE_PRODUCTS)
    async def variant_update(
        self, info: CtxInfo, id: strawberry.ID, input: VariantUpdateInput
    ) -> VariantPayload:
        row = await admin.update_variant(
            info.context, decode_id(id, "ProductVariant", "id"), input.to_changes()
        )
        return VariantPayload(variant=ProductVariant.from_model(row, info.context.currency))

    @strawberry.mutation(description="Set the units on hand of a variant in a warehouse.")
    @handles_errors(Permission.MANAGE_PRODUCTS)
    async def stock_set(
        self, info: CtxInfo, variant_id: strawberry.ID, warehouse_id: strawberry.ID, quantity: int
    ) -> StockPayload:
        row = await admin.set_stock(
            info.context,
            decode_id(variant_id, "ProductVariant", "variantId"),
            decode_id(warehouse_id, "Warehouse", "warehouseId"),
            quantity,
        )
        return StockPayload(stock=Stock.from_model(row))

    @strawberry.mutation
    @handles_errors(Permission.MANAGE_PRODUCTS)
    async def category_create(self, info: CtxInfo, input: CategoryInput) -> CategoryPayload:
        row = await admin.create_category(info.context, input.to_changes())
        return CategoryPayload(category=await _category(info, row.id or 0))

    @strawberry.mutation
    @handles_errors(Permission.MANAGE_PRODUCTS)
    async def category_update(
        self, info: CtxInfo, id: strawberry.ID, input: CategoryInput
    ) -> CategoryPayload:
        row = await admin.update_category(
            info.context, decode_id(id, "Category", "id"), input.to_changes()
        )
        return CategoryPayload(category=await _category(info, row.id or 0))

    @strawberry.mutation
    @handles_errors(Permission.MANAGE_PRODUCTS)
    async def warehouse_create(self, info: CtxInfo, input: WarehouseInput) -> WarehousePayload:
        row = await resolve_warehouses.new_warehouse(info.context, input.name, input.code)
        return WarehousePayload(warehouse=Warehouse.from_model(row))
