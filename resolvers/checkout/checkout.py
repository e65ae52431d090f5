"""CheckoutComplete and the back office's promotions and shipping methods."""

from __future__ import annotations

from app.checkout import complete, promotions, shipping
from app.checkout.models import Promotion, ShippingMethod
from app.orders.models import Order
from resolvers.cart.carts import cart_token, rules
from resolvers.context import Context


async def checkout(ctx: Context, cart_id: str, data: complete.CheckoutInput) -> Order:
    token = cart_token(cart_id)
    return await complete.complete(ctx.db, await ctx.viewer(), token, data, await rules(ctx))


async def create_promotion(ctx: Context, data: promotions.PromotionData) -> Promotion:
    return await promotions.create_promotion(ctx.db, data, ctx.now())


async def create_shipping_method(ctx: Context, data: shipping.ShippingMethodData) -> ShippingMethod:
    return await shipping.create_shipping_method(ctx.db, data, ctx.now())
