"""Cart operations: resolve the cart, run one service call in a transaction, return its view."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlmodel.ext.asyncio.session import AsyncSession

from app import ids
from app.accounts.addresses import AddressData
from app.accounts.permissions import Viewer
from app.cart import carts
from app.cart.models import Cart
from app.errors import ErrorCode, fail
from app.ids import parse_global_id
from resolvers.context import Context

# A change may hand back the view it built anyway, to save building it again.
CartWrite = Callable[[AsyncSession, Cart, carts.CartRules], Awaitable[carts.CartView | None]]


def cart_token(global_id: str) -> str:
    """The token inside a cart id; NOT_FOUND for anything else."""
    token = ids.CART.decode(global_id)
    if token is None:
        raise fail(ErrorCode.NOT_FOUND, "cart not found", "cartId")
    return token


async def rules(ctx: Context) -> carts.CartRules:
    tree = await ctx.category_tree()

    def path(category_id: int | None) -> frozenset[int]:
        if category_id is None or tree.get(category_id) is None:
            return frozenset()
        return frozenset([category_id, *(n.id for n in tree.ancestors(category_id))])

    return carts.CartRules(settings=ctx.settings, category_path=path, now=ctx.now())


async def _write(ctx: Context, cart_id: str, change: CartWrite) -> carts.CartView:
    token = cart_token(cart_id)
    viewer = await ctx.viewer()
    cart_rules = await rules(ctx)
    async with ctx.db.transaction() as session:
        cart = carts.check_access(
            await carts.find(session, token, lock=True), viewer, cart_rules.now
        )
        view = await change(session, cart, cart_rules)
        return view or await carts.build_view(session, cart, cart_rules)


async def view(ctx: Context, cart_id: str) -> carts.CartView:
    token = cart_token(cart_id)
    cart_rules = await rules(ctx)
    async with ctx.db.session() as session:
        cart = carts.check_access(
            await carts.find(session, token), await ctx.viewer(), cart_rules.now
        )
        return await carts.build_view(session, cart, cart_rules)


async def my_cart(ctx: Context, viewer: Viewer) -> carts.CartView | None:
    async with ctx.db.session() as session:
        cart = await carts.active_cart_of(session, viewer.user_id)
        if cart is None or cart.expires_at <= ctx.now():
            return None
        return await carts.build_view(session, cart, await rules(ctx))


async def create(ctx: Context, adds: list[carts.LineChange]) -> carts.CartView:
    viewer = await ctx.viewer()
    cart_rules = await rules(ctx)
    async with ctx.db.transaction() as session:
        cart = await carts.open_cart(session, viewer, cart_rules)
        if adds:
            await carts.change_lines(session, cart, adds, [], [], cart_rules)
        return await carts.build_view(session, cart, cart_rules)


async def add_lines(ctx: Context, cart_id: str, adds: list[carts.LineChange]) -> carts.CartView:
    async def change(session: AsyncSession, cart: Cart, r: carts.CartRules) -> None:
        await carts.change_lines(session, cart, adds, [], [], r)

    return await _write(ctx, cart_id, change)


async def update_lines(
    ctx: Context, cart_id: str, updates: list[carts.LineChange]
) -> carts.CartView:
    async def change(session: AsyncSession, cart: Cart, r: carts.CartRules) -> None:
        await carts.change_lines(session, cart, [], updates, [], r)

    return await _write(ctx, cart_id, change)


async def remove_lines(ctx: Context, cart_id: str, line_ids: list[int]) -> carts.CartView:
    async def change(session: AsyncSession, cart: Cart, r: carts.CartRules) -> None:
        await carts.change_lines(session, cart, [], [], line_ids, r)

    return await _write(ctx, cart_id, change)


async def apply_coupon(ctx: Context, cart_id: str, code: str) -> carts.CartView:
    viewer = await ctx.viewer()

    async def change(
        session: AsyncSession, cart: Cart, r: carts.CartRules
    ) -> carts.CartView | None:
        return await carts.apply_coupon(session, cart, code, viewer.email if viewer else None, r)

    return await _write(ctx, cart_id, change)


async def remove_coupon(ctx: Context, cart_id: str, code: str) -> carts.CartView:
    async def change(session: AsyncSession, cart: Cart, r: carts.CartRules) -> None:
        await carts.remove_coupon(session, cart, code, r)

    return await _write(ctx, cart_id, change)


async def set_address(ctx: Context, cart_id: str, address: AddressData) -> carts.CartView:
    async def change(session: AsyncSession, cart: Cart, r: carts.CartRules) -> None:
        await carts.set_shipping_address(session, cart, address, r)

    return await _write(ctx, cart_id, change)


async def select_method(ctx: Context, cart_id: str, method_id: int) -> carts.CartView:
    async def change(session: AsyncSession, cart: Cart, r: carts.CartRules) -> None:
        await carts.select_shipping_method(session, cart, method_id, r)

    return await _write(ctx, cart_id, change)


async def merge_at_sign_in(
    ctx: Context, viewer: Viewer, cart_id: str | None
) -> carts.CartView | None:
    """After sign-in: fold the guest cart in (when there is a usable one); the customer's cart."""
    if cart_id:
        parsed = parse_global_id(cart_id)
        token = parsed[1] if parsed and parsed[0] == "Cart" else None
        session = await ctx.session()
        guest = await carts.find(session, token, lock=True) if token else None
        usable = (
            guest is not None
            and guest.status == "ACTIVE"
            and guest.user_id is None
            and guest.expires_at > ctx.now()
        )
        if usable:
            assert guest is not None
            cart_rules = await rules(ctx)
            merged = await carts.merge_into_customer_cart(session, guest, viewer, cart_rules)
            return await carts.build_view(session, merged, cart_rules)
    return await my_cart(ctx, viewer)
