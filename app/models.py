"""Imports every domain's tables so that the metadata knows them all."""

from app.accounts.models import Address, RefreshToken, User
from app.catalog.models import (
    Category,
    Product,
    ProductImage,
    ProductTag,
    ProductVariant,
    Stock,
    Warehouse,
)

__all__ = [
    "Address",
    "Category",
    "Product",
    "ProductImage",
    "ProductTag",
    "ProductVariant",
    "RefreshToken",
    "Stock",
    "User",
    "Warehouse",
]
