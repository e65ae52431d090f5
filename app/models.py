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
from app.giftcards.models import GiftCard, GiftCardEntry
from app.inventory.models import Stock, StockHold
from app.logistics.models import Shipment, ShipmentEvent, ShipmentLine
from app.loyalty.models import PointsAccount, PointsEntry
from app.notifications.models import OutboxEmail
from app.orders.models import Order, OrderEvent, OrderLine
from app.payments.models import (
    Payment,
    PaymentNotification,
    Refund,
    RefundAllocation,
    RefundLine,
)
from app.persisted.models import AutomaticQuery, IdempotencyRecord, TrustedDocument
from app.promotions.models import Promotion, PromotionRedemption
from app.returns.models import ReturnRequest, ReturnRequestLine
from app.shipping.models import ShippingMethod

__all__ = [
    "Address",
    "AutomaticQuery",
    "Cart",
    "CartLine",
    "Category",
    "GiftCard",
    "GiftCardEntry",
    "IdempotencyRecord",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OutboxEmail",
    "Payment",
    "PaymentNotification",
    "PointsAccount",
    "PointsEntry",
    "Product",
    "ProductImage",
    "ProductTag",
    "ProductVariant",
    "Promotion",
    "PromotionRedemption",
    "RefreshToken",
    "Refund",
    "RefundAllocation",
    "RefundLine",
    "ReturnRequest",
    "ReturnRequestLine",
    "Shipment",
    "ShipmentEvent",
    "ShipmentLine",
    "ShippingMethod",
    "Stock",
    "StockHold",
    "TrustedDocument",
    "User",
    "Warehouse",
]
