"""Catalog tables: categories, products, variants, images, tags and warehouses.

The units kept per variant and warehouse are inventory's (`app.inventory.models`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, Text, text
from sqlmodel import Field, SQLModel

from app.columns import BigKey, JSONColumn, UTCDateTime, utcnow


class ProductStatus(StrEnum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    ARCHIVED = "ARCHIVED"


class StockStatus(StrEnum):
    IN_STOCK = "IN_STOCK"
    LOW_STOCK = "LOW_STOCK"
    OUT_OF_STOCK = "OUT_OF_STOCK"


def _pk() -> Any:
    return Field(default=None, sa_column=Column(BigKey, primary_key=True, autoincrement=True))


def _fk(target: str, ondelete: str, nullable: bool = False, index: bool = True) -> Any:
    return Field(
        default=None,
        sa_column=Column(
            BigKey, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index
        ),
    )


def _timestamp() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class Category(SQLModel, table=True):
    __tablename__ = "category"

    id: int | None = _pk()
    parent_id: int | None = _fk("category.id", "RESTRICT", nullable=True)
    name: str = Field(max_length=200)
    slug: str = Field(max_length=200, unique=True)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    position: int = Field(default=0)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class Product(SQLModel, table=True):
    __tablename__ = "product"
    __table_args__ = (
        CheckConstraint("status IN ('DRAFT', 'PUBLISHED', 'ARCHIVED')", name="status"),
        # Keyset pagination: every storefront sort reads one of these in order.
        Index("ix_product_status_created", "status", "created_at", "id"),
        Index("ix_product_status_name", "status", text("lower(name)"), "id"),
        Index("ix_product_status_price", "status", "min_price", "id"),
    )

    id: int | None = _pk()
    category_id: int | None = _fk("category.id", "SET NULL", nullable=True)
    status: str = Field(default=ProductStatus.DRAFT.value, max_length=16)
    name: str = Field(max_length=300)
    slug: str = Field(max_length=300, unique=True)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    seo_title: str = Field(default="", max_length=300)
    seo_description: str = Field(default="", max_length=1000)
    # Tags also live in product_tag (for filtering); this copy feeds full-text search.
    tags_text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    attributes: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSONColumn, nullable=False)
    )
    # Cheapest and dearest variant price, kept by the variant service for sort and range.
    min_price: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    max_price: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    published_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class ProductTag(SQLModel, table=True):
    __tablename__ = "product_tag"
    __table_args__ = (Index("ix_product_tag_tag", "tag", "product_id"),)

    product_id: int = Field(
        sa_column=Column(BigKey, ForeignKey("product.id", ondelete="CASCADE"), primary_key=True)
    )
    tag: str = Field(max_length=100, primary_key=True)


class ProductImage(SQLModel, table=True):
    __tablename__ = "product_image"
    __table_args__ = (Index("ix_product_image_product_position", "product_id", "position"),)

    id: int | None = _pk()
    product_id: int = _fk("product.id", "CASCADE", index=False)
    position: int = Field(default=0)
    url: str = Field(max_length=2000)
    alt: str = Field(default="", max_length=500)


class ProductVariant(SQLModel, table=True):
    __tablename__ = "product_variant"
    __table_args__ = (
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("compare_at_price IS NULL OR compare_at_price >= 0", name="compare_at"),
        CheckConstraint("weight_grams >= 0", name="weight_not_negative"),
        CheckConstraint("low_stock_threshold >= 0", name="threshold_not_negative"),
        Index("ix_product_variant_product_position", "product_id", "position"),
    )

    id: int | None = _pk()
    product_id: int = _fk("product.id", "CASCADE", index=False)
    sku: str = Field(max_length=100, unique=True)
    name: str = Field(default="", max_length=300)
    price: int = Field(sa_column=Column(BigInteger, nullable=False))
    compare_at_price: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    weight_grams: int = Field(default=0)
    low_stock_threshold: int = Field(default=5)
    reserve_on_add: bool = Field(default=False)
    attributes: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSONColumn, nullable=False)
    )
    position: int = Field(default=0)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class Warehouse(SQLModel, table=True):
    __tablename__ = "warehouse"

    id: int | None = _pk()
    name: str = Field(max_length=200)
    code: str = Field(max_length=50, unique=True)
    created_at: datetime = _timestamp()
