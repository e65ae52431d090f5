"""The cart as a storefront shows it: lines, promotions, shipping choices and totals."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app import ids
from app.cart.view import CartView, LineView
from app.catalog.availability import stock_status
from app.pricing.engine import PricedLine
from schema.accounts.types import Address
from schema.catalog.types import ProductVariant, StockStatus
from schema.checkout.types import ShippingMethod
from schema.common import CtxInfo, Money, Node, node_id


@strawberry.type
class AppliedPromotion:
    name: str
    coupon_code: str | None
    amount: Money = strawberry.field(description="What it takes off (lines and shipping).")


@strawberry.type
class CartLine(Node):
    id: strawberry.ID
    quantity: int
    variant: ProductVariant
    unit_price: Money
    subtotal: Money = strawberry.field(description="quantity x unitPrice")
    discount: Money = strawberry.field(description="This line's share of every discount.")
    tax: Money
    total: Money = strawberry.field(description="subtotal - discount + tax")
    stock_status: StockStatus  # type: ignore[valid-type]
    reserved_until: datetime | None = strawberry.field(
        description="Until when this line's units are held for the cart (flash sales)."
    )


@strawberry.type
class Cart(Node):
    id: strawberry.ID
    expires_at: datetime
    lines: list[CartLine]
    coupon_codes: list[str]
    applied_promotions: list[AppliedPromotion]
    shipping_address: Address | None
    available_shipping_methods: list[ShippingMethod]
    selected_shipping_method: ShippingMethod | None
    subtotal: Money
    discount_total: Money = strawberry.field(description="Discounts on the lines.")
    shipping_total: Money = strawberry.field(description="Shipping after free-shipping offers.")
    tax_total: Money
    total: Money

    @classmethod
    def from_view(cls, view: CartView, info: CtxInfo) -> Cart:
        ctx = info.context
        currency = ctx.currency
        for line in view.lines:  # later variant.product lookups in this request are free
            ctx.loaders.product.prime(line.product.id, line.product)
        cart = view.cart
        address = cart.shipping_address
        return cls(
            id=node_id(ids.CART, cart.token),
            expires_at=cart.expires_at,
            lines=list(cart_lines(view, currency).values()),
            coupon_codes=list(cart.coupon_codes),
            applied_promotions=[
                AppliedPromotion(
                    name=a.rule.name,
                    coupon_code=a.rule.coupon_code,
                    amount=Money.of(a.amount, currency),
                )
                for a in view.pricing.applied
            ],
            shipping_address=Address.of_cart(cart.token, address) if address else None,
            available_shipping_methods=[
                ShippingMethod.from_model(q.method, currency, q.fee) for q in view.methods
            ],
            selected_shipping_method=(
                ShippingMethod.from_model(view.selected, currency, view.pricing.shipping_fee)
                if view.selected
                else None
            ),
            subtotal=Money.of(view.pricing.subtotal, currency),
            discount_total=Money.of(view.pricing.discount_total, currency),
            shipping_total=Money.of(view.pricing.shipping_total, currency),
            tax_total=Money.of(view.pricing.tax_total, currency),
            total=Money.of(view.pricing.total, currency),
        )


def cart_lines(view: CartView, currency: str) -> dict[int, CartLine]:
    """The cart's lines by row id, in the cart's order."""
    priced = {p.key: p for p in view.pricing.lines}
    return {
        line.line.id or 0: _line(line, priced[line.line.id or 0], currency, view.cart.token)
        for line in view.lines
    }


def _line(view: LineView, priced: PricedLine, currency: str, cart_token: str) -> CartLine:
    return CartLine(
        id=node_id(ids.CART_LINE, ids.CartLineKey.of(view.line.id or 0, cart_token)),
        quantity=view.line.quantity,
        variant=ProductVariant.from_model(view.variant, currency),
        unit_price=Money.of(view.variant.price, currency),
        subtotal=Money.of(priced.subtotal, currency),
        discount=Money.of(priced.discount, currency),
        tax=Money.of(priced.tax, currency),
        total=Money.of(priced.total, currency),
        stock_status=stock_status(view.available, view.variant.low_stock_threshold),
        reserved_until=view.reserved_until,
    )
