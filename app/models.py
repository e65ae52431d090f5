"""Imports every domain's tables so that the metadata knows them all."""

from app.accounts.models import Address, RefreshToken, User
from app.cart.models import Cart, CartLine
from app.catalog.models import (
    Category,
    Product,
    ProductImage,
    ProductTag,
    ProductVariant,
    Warehouse,
)
from app.inventory.models import Stock, StockHold
from app.orders.models import Order, OrderEvent, OrderLine
from app.persisted.models import AutomaticQuery, IdempotencyRecord, TrustedDocument
from app.promotions.models import Promotion, PromotionRedemption
from app.shipping.models import ShippingMethod

__all__ = [
    "Address",
    "AutomaticQuery",
    "Cart",
    "CartLine",
    "Category",
    "IdempotencyRecord",
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
    "TrustedDocument",
    "User",
    "Warehouse",
]
