"""Catalog inputs and their conversion to the services' change objects."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry

from app import ids
from app.catalog import listing
from app.catalog.categories import CategoryChanges
from app.catalog.products import Attribute, Image, ProductChanges, StockLevel, VariantChanges
from schema.catalog.types import ProductStatus
from schema.common import decode_id, given

ProductSort = strawberry.enum(listing.ProductSort, name="ProductSort")


@strawberry.input(description="All optional; a category includes its sub-categories.")
class ProductFilter:
    category_slug: str | None = None
    search: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool | None = None
    tags: list[str] | None = strawberry.field(
        default=None, description="Products with any of these tags."
    )
    status: ProductStatus | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Staff only: narrow to one status."
    )


@strawberry.input
class AttributeInput:
    name: str
    value: str


@strawberry.input
class ImageInput:
    url: str
    alt: str | None = ""


@strawberry.input
class StockInput:
    warehouse_id: strawberry.ID
    quantity: int


def _attributes(items: list[AttributeInput] | Any | None) -> Any:
    if items is strawberry.UNSET:
        return given(items)
    return None if items is None else [Attribute(name=a.name, value=a.value) for a in items]


@strawberry.input
class VariantInput:
    sku: str
    price: Decimal
    name: str | None = ""
    compare_at_price: Decimal | None = None
    weight_grams: int | None = 0
    low_stock_threshold: int | None = None
    reserve_on_add: bool | None = False
    attributes: list[AttributeInput] | None = None
    stock: list[StockInput] | None = None

    def to_changes(self, index: int) -> VariantChanges:
        levels = [
            StockLevel(
                warehouse_id=decode_id(
                    s.warehouse_id,
                    ids.WAREHOUSE,
                    "input",
                    "variants",
                    str(index),
                    "stock",
                    str(i),
                    "warehouse_id",
                ),
                quantity=s.quantity,
            )
            for i, s in enumerate(self.stock or [])
        ]
        return VariantChanges(
            sku=self.sku,
            name=self.name,
            price=self.price,
            compare_at_price=self.compare_at_price,
            weight_grams=self.weight_grams,
            low_stock_threshold=self.low_stock_threshold,
            reserve_on_add=self.reserve_on_add,
            attributes=_attributes(self.attributes),
            stock=levels,
        )


@strawberry.input
class VariantUpdateInput:
    name: str | None = strawberry.UNSET
    price: Decimal | None = strawberry.UNSET
    compare_at_price: Decimal | None = strawberry.UNSET
    weight_grams: int | None = strawberry.UNSET
    low_stock_threshold: int | None = strawberry.UNSET
    reserve_on_add: bool | None = strawberry.UNSET
    attributes: list[AttributeInput] | None = strawberry.UNSET

    def to_changes(self) -> VariantChanges:
        return VariantChanges(
            name=given(self.name),
            price=given(self.price),
            compare_at_price=given(self.compare_at_price),
            weight_grams=given(self.weight_grams),
            low_stock_threshold=given(self.low_stock_threshold),
            reserve_on_add=given(self.reserve_on_add),
            attributes=_attributes(self.attributes),
        )


def _product_changes(data: Any) -> ProductChanges:
    category = given(data.category_id)
    images = given(data.images)
    return ProductChanges(
        name=given(data.name),
        slug=given(data.slug),
        description=given(data.description),
        category_id=decode_id(category, ids.CATEGORY, "input", "category_id")
        if isinstance(category, str)
        else category,
        tags=given(data.tags),
        seo_title=given(data.seo_title),
        seo_description=given(data.seo_description),
        attributes=_attributes(data.attributes),
        images=[Image(url=i.url, alt=i.alt or "") for i in images]
        if isinstance(images, list)
        else images,
    )


@strawberry.input(description="A new product; it starts as DRAFT.")
class ProductCreateInput:
    name: str
    slug: str | None = strawberry.field(
        default=strawberry.UNSET, description="Made from the name when absent."
    )
    description: str | None = strawberry.UNSET
    category_id: strawberry.ID | None = strawberry.UNSET
    tags: list[str] | None = strawberry.UNSET
    seo_title: str | None = strawberry.UNSET
    seo_description: str | None = strawberry.UNSET
    attributes: list[AttributeInput] | None = strawberry.UNSET
    images: list[ImageInput] | None = strawberry.UNSET
    variants: list[VariantInput] | None = None

    def to_changes(self) -> tuple[ProductChanges, list[VariantChanges]]:
        return _product_changes(self), [v.to_changes(i) for i, v in enumerate(self.variants or [])]


@strawberry.input(description="Fields to change; the ones not sent stay as they are.")
class ProductUpdateInput:
    name: str | None = strawberry.UNSET
    slug: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    category_id: strawberry.ID | None = strawberry.UNSET
    tags: list[str] | None = strawberry.UNSET
    seo_title: str | None = strawberry.UNSET
    seo_description: str | None = strawberry.UNSET
    attributes: list[AttributeInput] | None = strawberry.UNSET
    images: list[ImageInput] | None = strawberry.UNSET

    def to_changes(self) -> ProductChanges:
        return _product_changes(self)


@strawberry.input(description="On create, name is required; on update, fields not sent stay.")
class CategoryInput:
    name: str | None = strawberry.UNSET
    slug: str | None = strawberry.UNSET
    parent_id: strawberry.ID | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    position: int | None = strawberry.UNSET

    def to_changes(self) -> CategoryChanges:
        parent = given(self.parent_id)
        return CategoryChanges(
            name=given(self.name),
            slug=given(self.slug),
            description=given(self.description),
            parent_id=decode_id(parent, ids.CATEGORY, "input", "parent_id")
            if isinstance(parent, str)
            else parent,
            position=given(self.position) if self.position is not None else 0,
        )


@strawberry.input
class WarehouseInput:
    name: str
    code: str
