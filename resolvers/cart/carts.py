"""Cart operations: resolve the cart, run one service call in the mutation's unit of
work, return the cart's view."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlmodel.ext.asyncio.session import AsyncSession

from app import ids
from app.accounts.addresses import AddressData
from app.accounts.permissions import Viewer
from app.cart import access, coupons, delivery, lines, merge
from app.cart import view as cart_view
from app.cart.access import CartRules
from app.cart.lines import LineChange
from app.cart.models import Cart
from app.cart.view import CartView
from app.errors import ErrorCode, fail
from resolvers.context import Context

# A change may hand back the view it built anyway, to save building it again.
CartWrite = Callable[[AsyncSession, Cart, CartRules], Awaitable[CartView | None]]


def cart_token(global_id: str) -> str:
    """The token inside a cart id; NOT_FOUND for anything else."""
    token = ids.CART.decode(global_id)
    if token is None:
        raise fail(ErrorCode.NOT_FOUND, "cart not found", "cart_id")
    return token


async def rules(ctx: Context) -> CartRules:
    tree = await ctx.category_tree()

    def path(category_id: int | None) -> frozenset[int]:
        if category_id is None or tree.get(category_id) is None:
            return frozenset()
        return frozenset([category_id, *(n.id for n in tree.ancestors(category_id))])

    return CartRules(settings=ctx.settings, category_path=path, now=ctx.now())


async def _write(ctx: Context, cart_id: str, change: CartWrite) -> CartView:
    token = cart_token(cart_id)
    viewer = await ctx.viewer()
    cart_rules = await rules(ctx)
    session = await ctx.session()
    cart = access.check_access(await access.find(session, token, lock=True), viewer, cart_rules.now)
    return await change(session, cart, cart_rules) or await cart_view.build_view(
        session, cart, cart_rules
    )


async def view(ctx: Context, cart_id: str) -> CartView:
    token = cart_token(cart_id)
    return await cart_view.read_cart(ctx.db, token, await ctx.viewer(), await rules(ctx))


async def my_cart(ctx: Context, viewer: Viewer) -> CartView | None:
    return await cart_view.read_customer_cart(ctx.db, viewer.user_id, ctx.now(), lambda: rules(ctx))


async def create(ctx: Context, adds: list[LineChange]) -> CartView:
    viewer = await ctx.viewer()
    cart_rules = await rules(ctx)
    session = await ctx.session()
    cart = await access.open_cart(session, viewer, cart_rules)
    if adds:
        await lines.change_lines(session, cart, adds, [], [], cart_rules)
    return await cart_view.build_view(session, cart, cart_rules)


async def add_lines(ctx: Context, cart_id: str, adds: list[LineChange]) -> CartView:
    async def change(session: AsyncSession, cart: Cart, r: CartRules) -> None:
        await lines.change_lines(session, cart, adds, [], [], r)

    return await _write(ctx, cart_id, change)


async def update_lines(ctx: Context, cart_id: str, updates: list[LineChange]) -> CartView:
    async def change(session: AsyncSession, cart: Cart, r: CartRules) -> None:
        await lines.change_lines(session, cart, [], updates, [], r)

    return await _write(ctx, cart_id, change)


async def remove_lines(ctx: Context, cart_id: str, line_ids: list[int]) -> CartView:
    async def change(session: AsyncSession, cart: Cart, r: CartRules) -> None:
        await lines.change_lines(session, cart, [], [], line_ids, r)

    return await _write(ctx, cart_id, change)


async def apply_coupon(ctx: Context, cart_id: str, code: str) -> CartView:
    viewer = await ctx.viewer()

    async def change(session: AsyncSession, cart: Cart, r: CartRules) -> CartView | None:
        return await coupons.apply_coupon(session, cart, code, viewer.email if viewer else None, r)

    return await _write(ctx, cart_id, change)


async def remove_coupon(ctx: Context, cart_id: str, code: str) -> CartView:
    async def change(session: AsyncSession, cart: Cart, r: CartRules) -> None:
        await coupons.remove_coupon(session, cart, code, r)

    return await _write(ctx, cart_id, change)


async def set_address(ctx: Context, cart_id: str, address: AddressData) -> CartView:
    async def change(session: AsyncSession, cart: Cart, r: CartRules) -> None:
        await delivery.set_shipping_address(session, cart, address, r)

    return await _write(ctx, cart_id, change)


async def select_method(ctx: Context, cart_id: str, method_id: int) -> CartView:
    async def change(session: AsyncSession, cart: Cart, r: CartRules) -> None:
        await delivery.select_shipping_method(session, cart, method_id, r)

    return await _write(ctx, cart_id, change)


async def merge_at_sign_in(ctx: Context, viewer: Viewer, cart_id: str | None) -> CartView | None:
    """After sign-in: fold the guest cart in (when there is a usable one); the customer's cart."""
    if cart_id:
        token = ids.CART.decode(cart_id)
        session = await ctx.session()
        guest = await access.find(session, token, lock=True) if token else None
        if guest is not None and merge.is_mergeable(guest, ctx.now()):
            cart_rules = await rules(ctx)
            merged = await merge.merge_into_customer_cart(session, guest, viewer, cart_rules)
            return await cart_view.build_view(session, merged, cart_rules)
    return await my_cart(ctx, viewer)
