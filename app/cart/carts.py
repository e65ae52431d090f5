"""Carts: access, lines, coupons, shipping choices, merging and expiry.

Every write runs in one transaction that also builds the cart's new view, so
a failed change (a userError) leaves the cart, its holds and the stock as
they were. Stock is only checked here; it is taken at checkout, except for
reserve-on-add variants, whose units are held for the line (`holds`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.addresses import AddressData, address_fields, clean_address
from app.accounts.permissions import Viewer, require_owner
from app.accounts.users import lock_user
from app.cart import holds
from app.cart.models import Cart, CartLine, CartStatus, StockHold
from app.catalog import stock
from app.catalog.loaders import available_units
from app.catalog.models import Product, ProductStatus, ProductVariant
from app.checkout import promotions, shipping
from app.checkout.models import Promotion, ShippingMethod
from app.checkout.pricing import NotApplied, PriceLine, Pricing, price
from app.checkout.tax import tax_rate
from app.errors import DomainError, ErrorCode, Problems, fail
from app.money import to_decimal
from app.settings import Settings

MAX_LINE_QUANTITY = 99
MAX_LINES = 100

CategoryPath = Callable[[int | None], frozenset[int]]


@dataclass(frozen=True, slots=True)
class LineChange:
    """A requested quantity for a variant (add) or a line (update); `index` locates errors."""

    key: int
    quantity: int
    index: int


@dataclass(slots=True)
class LineView:
    line: CartLine
    variant: ProductVariant
    product: Product
    available: int  # units this line could have: on sale now plus its own holds
    reserved_until: datetime | None


@dataclass(slots=True)
class MethodQuote:
    method: ShippingMethod
    fee: int


@dataclass(slots=True)
class CartView:
    cart: Cart
    lines: list[LineView]
    pricing: Pricing
    methods: list[MethodQuote]
    selected: ShippingMethod | None
    coupons: dict[str, Promotion] = field(default_factory=dict)
    automatic: list[Promotion] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CartRules:
    """What pricing a cart needs from outside the cart domain."""

    settings: Settings
    category_path: CategoryPath
    now: datetime


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _touch(cart: Cart, rules: CartRules) -> None:
    cart.updated_at = rules.now
    cart.expires_at = rules.now + timedelta(seconds=rules.settings.cart_ttl_seconds)


def _not_found() -> DomainError:
    return fail(ErrorCode.NOT_FOUND, "cart not found", "cartId")


async def find(session: AsyncSession, token: str, *, lock: bool = False) -> Cart | None:
    query = select(Cart).where(Cart.token == token)
    return (await session.exec(query.with_for_update() if lock else query)).first()


def check_access(cart: Cart | None, viewer: Viewer | None, now: datetime) -> Cart:
    """The cart if the caller may use it: a guest cart by its id, a customer's only by them."""
    if cart is None or cart.status != CartStatus.ACTIVE:
        raise _not_found()
    if cart.user_id is not None:
        require_owner(viewer, cart.user_id, "cart", "cartId")
    if cart.expires_at <= now:
        raise fail(ErrorCode.CART_EXPIRED, "this cart has expired; start a new one", "cartId")
    return cart


async def active_cart_of(session: AsyncSession, user_id: int, *, lock: bool = False) -> Cart | None:
    query = select(Cart).where(Cart.user_id == user_id, Cart.status == CartStatus.ACTIVE)
    return (await session.exec(query.with_for_update() if lock else query)).first()


async def open_cart(session: AsyncSession, viewer: Viewer | None, rules: CartRules) -> Cart:
    """A signed-in customer's one active cart (made on first use); a new guest cart otherwise."""
    if viewer is not None:
        # User, then cart: the order every path takes. The cart lock keeps this write
        # from overlapping one that came in through the cart's id.
        await lock_user(session, viewer.user_id)
        existing = await active_cart_of(session, viewer.user_id, lock=True)
        if existing is not None and existing.expires_at > rules.now:
            return existing
        if existing is not None:
            await _close_expired(session, existing)
    cart = Cart(
        token=new_token(),
        user_id=viewer.user_id if viewer else None,
        created_at=rules.now,
        updated_at=rules.now,
        expires_at=rules.now,
    )
    _touch(cart, rules)
    session.add(cart)
    await session.flush()
    return cart


async def _close_expired(session: AsyncSession, cart: Cart) -> None:
    assert cart.id is not None
    await _delete_carts(session, [cart.id])


async def _delete_carts(session: AsyncSession, cart_ids: Sequence[int]) -> None:
    """Deletes carts (locked by the caller) with their lines, giving back what the lines
    held; the release locks the stock rows first, as every stock write does."""
    line_ids = list(
        (await session.exec(select(CartLine.id).where(col(CartLine.cart_id).in_(cart_ids)))).all()
    )
    await holds.release_lines(session, line_ids)  # type: ignore[arg-type]
    await session.exec(delete(CartLine).where(col(CartLine.cart_id).in_(cart_ids)))  # type: ignore[call-overload]
    await session.exec(delete(Cart).where(col(Cart.id).in_(cart_ids)))  # type: ignore[call-overload]


async def _lines(session: AsyncSession, cart_id: int) -> list[CartLine]:
    rows = await session.exec(
        select(CartLine).where(CartLine.cart_id == cart_id).order_by(col(CartLine.id))
    )
    return list(rows.all())


async def _variants(
    session: AsyncSession, variant_ids: Sequence[int]
) -> dict[int, tuple[ProductVariant, Product]]:
    if not variant_ids:
        return {}
    rows = await session.exec(
        select(ProductVariant, Product)
        .join(Product, col(Product.id) == col(ProductVariant.product_id))
        .where(col(ProductVariant.id).in_(variant_ids))
    )
    return {variant.id: (variant, product) for variant, product in rows.all()}  # type: ignore[misc]


def _held_by_line(line_holds: Sequence[StockHold]) -> dict[int, tuple[int, datetime]]:
    held: dict[int, tuple[int, datetime]] = {}
    for hold in line_holds:
        quantity, until = held.get(hold.line_id, (0, hold.expires_at))
        held[hold.line_id] = (quantity + hold.quantity, min(until, hold.expires_at))
    return held


def _insufficient(available: int, sku: str, index: int, name: str) -> DomainError:
    return fail(
        ErrorCode.INSUFFICIENT_STOCK,
        f"only {max(available, 0)} of {sku} available",
        "lines",
        str(index),
        name,
    )


def _quantity_ok(change: LineChange, lowest: int, problems: Problems) -> bool:
    if lowest <= change.quantity <= MAX_LINE_QUANTITY:
        return True
    problems.add(
        ErrorCode.INVALID,
        f"quantity must be between {lowest} and {MAX_LINE_QUANTITY}",
        "lines", str(change.index), "quantity",
    )  # fmt: skip
    return False


async def change_lines(
    session: AsyncSession,
    cart: Cart,
    adds: Sequence[LineChange],
    updates: Sequence[LineChange],
    removals: Sequence[int],
    rules: CartRules,
) -> None:
    """Applies line changes all at once, or none of them (the first problem is raised)."""
    assert cart.id is not None
    lines = {line.id: line for line in await _lines(session, cart.id)}
    by_variant = {line.variant_id: line for line in lines.values()}
    problems = Problems()
    wanted: dict[int, int] = {line.variant_id: line.quantity for line in lines.values()}
    where: dict[int, tuple[int, str]] = {}  # variant -> (request index, field) for messages

    for change in adds:
        if not _quantity_ok(change, 1, problems):
            continue
        wanted[change.key] = wanted.get(change.key, 0) + change.quantity
        where[change.key] = (change.index, "variantId")
    for change in updates:
        line = lines.get(change.key)
        if line is None:
            problems.add(
                ErrorCode.NOT_FOUND,
                "no such line in this cart",
                "lines",
                str(change.index),
                "lineId",
            )
            continue
        if not _quantity_ok(change, 0, problems):
            continue
        wanted[line.variant_id] = change.quantity
        where[line.variant_id] = (change.index, "quantity")
    for index, line_id in enumerate(removals):
        line = lines.get(line_id)
        if line is None:
            problems.add(ErrorCode.NOT_FOUND, "no such line in this cart", "lineIds", str(index))
            continue
        wanted[line.variant_id] = 0
    problems.raise_if_any()

    # Sorted: stock rows get locked in one global order (no deadlocks between carts).
    changed = sorted(
        v for v, q in wanted.items() if q != (by_variant[v].quantity if v in by_variant else 0)
    )
    if not changed:
        return
    found = await _variants(session, changed)
    for variant_id in changed:
        index, name = where.get(variant_id, (0, "lineId"))
        pair = found.get(variant_id)
        if wanted[variant_id] > 0 and (
            pair is None or pair[1].status != ProductStatus.PUBLISHED.value
        ):
            raise fail(
                ErrorCode.NOT_FOUND,
                "no product variant on sale with this id",
                "lines",
                str(index),
                name,
            )
        if wanted[variant_id] > MAX_LINE_QUANTITY:
            raise fail(
                ErrorCode.INVALID,
                f"at most {MAX_LINE_QUANTITY} of one variant per cart",
                "lines", str(index), "quantity",
            )  # fmt: skip
    if sum(1 for q in wanted.values() if q > 0) > MAX_LINES:
        raise fail(ErrorCode.INVALID, f"a cart holds at most {MAX_LINES} lines", "lines")

    holding = [v for v in changed if v in found and found[v][0].reserve_on_add]
    releasing = {
        line.id: line.variant_id
        for v, line in by_variant.items()
        if v in changed and (v in holding or wanted[v] == 0)
    }
    held = await holds.of_lines(session, list(releasing))  # type: ignore[arg-type]
    # Every stock row this change writes, locked before any hold is touched: the rows
    # of the held variants and any other row a removed line holds units of.
    await stock.lock(session, variant_ids=holding, stock_ids={h.stock_id for h in held})
    if holding:
        await holds.release_expired(session, rules.now, holding)
    available = await available_units(session, [v for v in changed if wanted[v] > 0])
    # Those of the line's holds that did not just run out (and go back into `available`).
    own = _held_by_line(
        [h for h in held if releasing[h.line_id] in holding and h.expires_at > rules.now]
    )
    until = rules.now + timedelta(seconds=rules.settings.hold_seconds)

    for variant_id in changed:
        quantity = wanted[variant_id]
        line = by_variant.get(variant_id)
        line_holds = [h for h in held if line is not None and h.line_id == line.id]
        if quantity == 0:
            assert line is not None
            await holds.release(session, line_holds)
            await session.delete(line)
            continue
        variant = found[variant_id][0]
        index, name = where.get(variant_id, (0, "quantity"))
        own_held = own.get(line.id, (0, until))[0] if line is not None else 0  # type: ignore[arg-type]
        can_have = available.get(variant_id, 0) + own_held
        if quantity > can_have:
            raise _insufficient(can_have, variant.sku, index, name)
        if line is None:
            line = CartLine(
                cart_id=cart.id, variant_id=variant_id, quantity=quantity, created_at=rules.now
            )
            session.add(line)
            await session.flush()
        else:
            line.quantity = quantity
        if variant.reserve_on_add:
            assert line.id is not None
            await holds.release(session, line_holds)
            if not await holds.take(session, line.id, variant_id, quantity, until):
                raise _insufficient(can_have, variant.sku, index, name)
    _touch(cart, rules)
    await session.flush()


async def apply_coupon(
    session: AsyncSession, cart: Cart, code: str, email: str | None, rules: CartRules
) -> CartView | None:
    """Adds a coupon when it is valid now and takes something off this cart.

    Returns the cart's new view (it had to be priced to judge the coupon), or None when
    the coupon was on the cart already.
    """
    normalized = promotions.normalize_code(code)
    if normalized in cart.coupon_codes:
        return None
    if len(cart.coupon_codes) >= promotions.MAX_COUPONS_PER_CART:
        raise fail(ErrorCode.INVALID, "a cart takes at most 5 coupons", "code")
    found = (
        await session.exec(select(Promotion).where(Promotion.coupon_code == normalized))
    ).first()
    uses = await promotions.customer_uses(session, [found.id] if found and found.id else [], email)
    problem = promotions.coupon_problem(
        normalized, found, rules.now, uses.get(found.id or 0, 0) if found else 0
    )
    if problem is not None:
        raise problem
    assert found is not None
    cart.coupon_codes = [*cart.coupon_codes, normalized]
    view = await build_view(session, cart, rules)
    missed = next((n for n in view.pricing.not_applied if n.rule.id == found.id), None)
    # Free shipping waits for a shipping method to be chosen; it is not refused for lack of one.
    waits_for_shipping = found.kind == "FREE_SHIPPING" and view.selected is None
    if missed is not None and not waits_for_shipping:
        raise fail(
            ErrorCode.COUPON_NOT_APPLICABLE,
            f"the coupon {normalized} does not apply: {_explain(missed, rules)}",
            "code",
        )
    _touch(cart, rules)
    await session.flush()
    return view


def _explain(missed: NotApplied, rules: CartRules) -> str:
    if missed.missing is not None:
        currency = rules.settings.currency
        return f"spend {to_decimal(missed.missing, currency)} {currency} more to use it"
    return missed.reason


async def remove_coupon(session: AsyncSession, cart: Cart, code: str, rules: CartRules) -> None:
    normalized = promotions.normalize_code(code)
    cart.coupon_codes = [c for c in cart.coupon_codes if c != normalized]
    _touch(cart, rules)
    await session.flush()


async def set_shipping_address(
    session: AsyncSession, cart: Cart, address: AddressData, rules: CartRules
) -> None:
    cleaned = clean_address(address, "address")
    cart.shipping_address = address_fields(cleaned)
    if cart.shipping_method_id is not None:
        method = await session.get(ShippingMethod, cart.shipping_method_id)
        if method is None or not shipping.serves(method, cleaned.country):
            cart.shipping_method_id = None
    _touch(cart, rules)
    await session.flush()


async def select_shipping_method(
    session: AsyncSession, cart: Cart, method_id: int, rules: CartRules
) -> None:
    country = (cart.shipping_address or {}).get("country")
    if country is None:
        raise fail(
            ErrorCode.SHIPPING_ADDRESS_REQUIRED, "set a shipping address first", "shippingMethodId"
        )
    method = await session.get(ShippingMethod, method_id)
    if method is None or not method.active:
        raise fail(ErrorCode.NOT_FOUND, "no shipping method with this id", "shippingMethodId")
    if not shipping.serves(method, country):
        raise fail(
            ErrorCode.SHIPPING_NOT_AVAILABLE,
            f"{method.name} does not deliver to {country}",
            "shippingMethodId",
        )
    cart.shipping_method_id = method_id
    _touch(cart, rules)
    await session.flush()


async def build_view(
    session: AsyncSession, cart: Cart, rules: CartRules, exclude: frozenset[int] = frozenset()
) -> CartView:
    """Everything a cart shows, priced exactly as checkout would price it now.

    `exclude`: promotions this customer may not have (their per-customer limit is used).
    """
    assert cart.id is not None
    lines = await _lines(session, cart.id)
    found = await _variants(session, [line.variant_id for line in lines])
    available = await available_units(session, list(found))
    held = _held_by_line(
        await holds.of_lines(
            session,
            [line.id for line in lines if found[line.variant_id][0].reserve_on_add],  # type: ignore[misc]
        )
    )
    views: list[LineView] = []
    for line in lines:
        variant, product = found[line.variant_id]
        own = held.get(line.id or 0)
        live_hold = own if own and own[1] > rules.now else None
        views.append(
            LineView(
                line=line,
                variant=variant,
                product=product,
                available=available.get(line.variant_id, 0) + (own[0] if own else 0),
                reserved_until=live_hold[1] if live_hold else None,
            )
        )
    automatic, coupons = await promotions.candidate_promotions(
        session, cart.coupon_codes, rules.now
    )
    automatic = [p for p in automatic if p.id not in exclude]
    usable = [
        p for p in coupons if promotions.coupon_problem(p.coupon_code or "", p, rules.now) is None
    ]
    methods = await shipping.active_methods(session)
    country = (cart.shipping_address or {}).get("country")
    serving = [m for m in methods if shipping.serves(m, country)]
    selected = next((m for m in serving if m.id == cart.shipping_method_id), None)
    weight = sum(v.variant.weight_grams * v.line.quantity for v in views)
    price_lines = [
        PriceLine(
            key=v.line.id or 0,
            product_id=v.product.id or 0,
            category_ids=rules.category_path(v.product.category_id),
            unit_price=v.variant.price,
            quantity=v.line.quantity,
        )
        for v in views
    ]
    pricing = price(
        price_lines,
        [promotions.rule_of(p) for p in [*automatic, *usable]],
        tax_rate(rules.settings.tax_rates, country),
        (lambda subtotal: shipping.quote(selected, weight, subtotal)) if selected else None,
    )
    discounted = pricing.subtotal - sum(a.amount for a in pricing.applied if not a.rule.order_phase)
    quotes = [MethodQuote(m, shipping.quote(m, weight, discounted)) for m in serving]
    return CartView(
        cart=cart,
        lines=views,
        pricing=pricing,
        methods=quotes,
        selected=selected,
        coupons={p.coupon_code or "": p for p in coupons},
        automatic=automatic,
    )


async def merge_into_customer_cart(
    session: AsyncSession, guest: Cart, viewer: Viewer, rules: CartRules
) -> Cart:
    """Signs a guest cart in: its lines join the customer's cart, capped by what is available."""
    assert guest.id is not None
    await lock_user(session, viewer.user_id)
    target = await active_cart_of(session, viewer.user_id, lock=True)
    if target is None or target.expires_at <= rules.now:
        if target is not None:
            await _close_expired(session, target)
        guest.user_id = viewer.user_id
        _touch(guest, rules)
        await session.flush()
        return guest
    assert target.id is not None
    guest_lines = sorted(await _lines(session, guest.id), key=lambda line: line.variant_id)
    target_lines = {line.variant_id: line for line in await _lines(session, target.id)}
    found = await _variants(session, [line.variant_id for line in guest_lines])
    guest_holds = await holds.of_lines(session, [line.id for line in guest_lines])  # type: ignore[misc]
    variant_ids = [line.variant_id for line in guest_lines]
    reserving = [v for v in variant_ids if found[v][0].reserve_on_add]
    # Every stock row the merge writes, before any hold: the rows of the variants held
    # again for the customer, and any other row the guest's lines hold units of.
    await stock.lock(session, variant_ids=reserving, stock_ids={h.stock_id for h in guest_holds})
    # The guest's holds end; the merged quantities are held again for the customer's line.
    await holds.release(session, guest_holds)
    await holds.release_expired(session, rules.now, reserving)
    available = await available_units(session, variant_ids)
    own = _held_by_line(await holds.of_lines(session, [line.id for line in target_lines.values()]))  # type: ignore[misc]
    until = rules.now + timedelta(seconds=rules.settings.hold_seconds)
    line_count = len(target_lines)
    for line in guest_lines:
        variant, product = found[line.variant_id]
        existing = target_lines.get(line.variant_id)
        current = existing.quantity if existing else 0
        own_held = own.get(existing.id or 0, (0, until))[0] if existing else 0
        cap = min(MAX_LINE_QUANTITY, available.get(line.variant_id, 0) + own_held)
        merged = min(current + line.quantity, cap)
        if product.status != ProductStatus.PUBLISHED.value or merged <= current:
            continue
        if existing is None and line_count >= MAX_LINES:
            continue
        try:
            # A line whose units cannot be held after all is left out, with nothing
            # of it half-done: its changes live in a savepoint.
            async with session.begin_nested():
                await _merge_line(session, target, existing, variant, merged, until, rules)
        except _NotHeld:
            continue
        line_count += existing is None
    for code in guest.coupon_codes:
        if code not in target.coupon_codes:
            target.coupon_codes = [*target.coupon_codes, code][: promotions.MAX_COUPONS_PER_CART]
    if target.shipping_address is None and guest.shipping_address is not None:
        target.shipping_address = guest.shipping_address
        target.shipping_method_id = guest.shipping_method_id
    await session.exec(delete(CartLine).where(col(CartLine.cart_id) == guest.id))  # type: ignore[call-overload]
    guest.status = CartStatus.MERGED.value
    _touch(target, rules)
    await session.flush()
    return target


class _NotHeld(Exception):
    pass


async def _merge_line(
    session: AsyncSession,
    target: Cart,
    existing: CartLine | None,
    variant: ProductVariant,
    quantity: int,
    until: datetime,
    rules: CartRules,
) -> None:
    assert target.id is not None
    assert variant.id is not None
    if existing is None:
        existing = CartLine(
            cart_id=target.id, variant_id=variant.id, quantity=quantity, created_at=rules.now
        )
        session.add(existing)
        await session.flush()
    else:
        existing.quantity = quantity
    if variant.reserve_on_add:
        assert existing.id is not None
        await holds.release_lines(session, [existing.id])
        if not await holds.take(session, existing.id, variant.id, quantity, until):
            raise _NotHeld
    await session.flush()


async def purge_expired(session: AsyncSession, now: datetime, limit: int = 500) -> int:
    """Deletes carts unused past their expiry (and gives back what they held)."""
    # Locked like any cart write (cart before stock); a cart in use is left for the next round.
    carts = list(
        (
            await session.exec(
                select(Cart)
                .where(col(Cart.expires_at) <= now)
                .order_by(col(Cart.id))
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
    )
    if not carts:
        return 0
    await _delete_carts(session, [c.id for c in carts if c.id is not None])
    return len(carts)
