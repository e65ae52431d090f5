"""CheckoutComplete and the back office's promotions and shipping methods: each in the
mutation's unit of work."""

from __future__ import annotations

from app.checkout import complete
from app.orders.models import Order
from app.promotions import admin as promotions
from app.promotions.models import Promotion
from app.shipping import admin as shipping
from app.shipping.models import ShippingMethod
from resolvers.cart.carts import cart_token, rules
from resolvers.context import Context


async def checkout(ctx: Context, cart_id: str, data: complete.CheckoutInput) -> Order:
    token = cart_token(cart_id)
    viewer = await ctx.viewer()
    checked = complete.check_input(data, viewer)
    cart_rules = await rules(ctx)
    return await complete.place_order(await ctx.session(), viewer, token, checked, cart_rules)


async def create_promotion(ctx: Context, data: promotions.PromotionData) -> Promotion:
    promotion = promotions.new_promotion(data, ctx.now())
    return await promotions.add_promotion(await ctx.session(), promotion)


async def create_shipping_method(ctx: Context, data: shipping.ShippingMethodData) -> ShippingMethod:
    method = shipping.new_shipping_method(data, ctx.now())
    return await shipping.add_shipping_method(await ctx.session(), method)
