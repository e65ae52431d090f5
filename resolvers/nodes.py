"""Objects by global id, many at once, for the kinds whose own resolvers read one at a
time: carts (and their lines and shipping addresses), promotions and shipping methods
(orders and payments: `resolvers.orders`, `resolvers.payments`). Each function takes a
batch of keys and returns one result per key, in key order, None where the object is
unknown or not the viewer's to see.

A cart is seen as `cart(id:)` sees it (`app.cart.access.check_access`): active and
unexpired, a guest's by its id alone, a customer's by that customer only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from app.accounts.permissions import Permission, Viewer
from app.cart.access import check_access
from app.cart.models import Cart
from app.cart.view import CartView, read_views
from app.errors import DomainError
from app.ids import CartLineKey
from app.promotions.models import Promotion
from app.shipping.models import ShippingMethod
from resolvers.cart.carts import rules
from resolvers.context import Context


def _usable(cart: Cart | None, viewer: Viewer | None, now: datetime) -> Cart | None:
    if cart is None:
        return None
    try:
        return check_access(cart, viewer, now)
    except DomainError:
        return None


async def _views(ctx: Context, found: Sequence[Cart | None]) -> dict[int, CartView]:
    """The view (lines priced as checkout would) of each distinct cart."""
    distinct = {cart.id: cart for cart in found if cart is not None and cart.id is not None}
    if not distinct:
        return {}
    return await read_views(ctx.db, list(distinct.values()), await rules(ctx))


async def carts_by_tokens(ctx: Context, tokens: Sequence[str]) -> list[Cart | None]:
    viewer, now = await ctx.viewer(), ctx.now()
    return [
        _usable(cart, viewer, now) for cart in await ctx.loaders.cart_by_token.load_many(tokens)
    ]


async def cart_views_by_tokens(ctx: Context, tokens: Sequence[str]) -> list[CartView | None]:
    found = await carts_by_tokens(ctx, tokens)
    views = await _views(ctx, found)
    return [views[cart.id] if cart is not None and cart.id is not None else None for cart in found]


async def cart_lines_by_keys(
    ctx: Context, keys: Sequence[CartLineKey]
) -> list[tuple[CartView, int] | None]:
    """The view of each line's cart with the line's row id, when the key proves its holder
    was shown that cart (see `CartLineKey`) and the viewer may use the cart."""
    lines = await ctx.loaders.cart_line.load_many([key.line_id for key in keys])
    owners = await ctx.loaders.cart.load_many([line.cart_id for line in lines if line])
    by_id = {cart.id: cart for cart in owners if cart is not None}
    viewer, now = await ctx.viewer(), ctx.now()
    found = [
        _usable(cart, viewer, now)
        if line is not None
        and (cart := by_id.get(line.cart_id)) is not None
        and key.proven_by(cart.token)
        else None
        for key, line in zip(keys, lines, strict=True)
    ]
    views = await _views(ctx, found)
    return [
        (views[cart.id], key.line_id) if cart is not None and cart.id is not None else None
        for key, cart in zip(keys, found, strict=True)
    ]


async def promotions_by_ids(ctx: Context, keys: Sequence[int]) -> list[Promotion | None]:
    """Promotions (coupon codes among them) are the back office's: staff who manage them."""
    if not await ctx.can(Permission.MANAGE_PROMOTIONS):
        return [None] * len(keys)
    return await ctx.loaders.promotion.load_many(keys)


async def shipping_methods_by_ids(ctx: Context, keys: Sequence[int]) -> list[ShippingMethod | None]:
    """Active methods to anyone (every cart lists them); the others to staff who manage
    shipping."""
    manager = await ctx.can(Permission.MANAGE_SHIPPING)
    return [
        method if method is not None and (method.active or manager) else None
        for method in await ctx.loaders.shipping_method.load_many(keys)
    ]
