"""Imports every domain's tables so that the metadata knows them all."""

from app.accounts.models import Address, RefreshToken, User
from app.cart.models import Cart, CartLine, StockHold
from app.catalog.models import (
    Category,
    Product,
    ProductImage,
    ProductTag,
    ProductVariant,
    Stock,
    Warehouse,
)
from app.checkout.models import Promotion, PromotionRedemption, ShippingMethod
from app.orders.models import Order, OrderEvent, OrderLine

__all__ = [
    "Address",
    "Cart",
    "CartLine",
    "Category",
    "Order",
    "OrderEvent",
    "OrderLine",
    "Product",
    "ProductImage",
    "ProductTag",
    "ProductVariant",
    "Promotion",
    "PromotionRedemption",
    "RefreshToken",
    "ShippingMethod",
    "Stock",
    "StockHold",
    "User",
    "Warehouse",
]
