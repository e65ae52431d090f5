"""The priced view of a cart: what the storefront shows, and what checkout orders.

Everything a cart shows, priced exactly as checkout would price it now
(`app.pricing`), with the promotions that apply (`app.promotions`), the
shipping methods that serve its address and their quotes (`app.shipping`),
and what each line could have (`app.inventory`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.permissions import Viewer
from app.cart.access import CartRules, active_cart_of, check_access, find
from app.cart.contents import lines_of, variants_of
from app.cart.models import Cart, CartLine
from app.catalog.models import Product, ProductVariant
from app.database import Database
from app.inventory import holds
from app.inventory.availability import available_units
from app.pricing.engine import PriceLine, Pricing, price
from app.pricing.tax import tax_rate
from app.promotions import offers
from app.promotions.models import Promotion
from app.shipping.models import ShippingMethod
from app.shipping.rates import active_methods, quote, serves


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

    def promotion(self, promotion_id: int) -> Promotion | None:
        """One of the promotions the view was priced with."""
        return next(
            (p for p in [*self.coupons.values(), *self.automatic] if p.id == promotion_id), None
        )


@dataclass(frozen=True, slots=True)
class _Offers:
    automatic: list[Promotion]
    coupons: list[Promotion]  # those of the cart's codes, usable or not
    usable: list[Promotion]  # the coupons that may be used now


async def _line_views(session: AsyncSession, cart: Cart, now: datetime) -> list[LineView]:
    assert cart.id is not None
    lines = await lines_of(session, cart.id)
    found = await variants_of(session, [line.variant_id for line in lines])
    available = await available_units(session, list(found))
    held = holds.held_by_line(
        await holds.holds_of_lines(
            session,
            [line.id for line in lines if found[line.variant_id][0].reserve_on_add],  # type: ignore[misc]
        )
    )
    views: list[LineView] = []
    for line in lines:
        variant, product = found[line.variant_id]
        own = held.get(line.id or 0)
        views.append(
            LineView(
                line=line,
                variant=variant,
                product=product,
                available=available.get(line.variant_id, 0) + (own[0] if own else 0),
                reserved_until=own[1] if own and own[1] > now else None,
            )
        )
    return views


async def _offers(
    session: AsyncSession, cart: Cart, now: datetime, exclude: frozenset[int]
) -> _Offers:
    automatic, coupons = await offers.candidate_promotions(session, cart.coupon_codes, now)
    return _Offers(
        automatic=[p for p in automatic if p.id not in exclude],
        coupons=coupons,
        usable=[p for p in coupons if offers.coupon_problem(p.coupon_code or "", p, now) is None],
    )


def _priced(
    cart: Cart,
    views: Sequence[LineView],
    found: _Offers,
    methods: Sequence[ShippingMethod],
    rules: CartRules,
) -> CartView:
    country = (cart.shipping_address or {}).get("country")
    serving = [m for m in methods if serves(m, country)]
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
        [offers.rule_of(p) for p in [*found.automatic, *found.usable]],
        tax_rate(rules.settings.tax_rates, country),
        (lambda subtotal: quote(selected, weight, subtotal)) if selected else None,
    )
    # Methods are quoted on the merchandise after catalog promotions, as "free over" reads it.
    discounted = pricing.subtotal - sum(a.amount for a in pricing.applied if not a.rule.order_phase)
    return CartView(
        cart=cart,
        lines=list(views),
        pricing=pricing,
        methods=[MethodQuote(m, quote(m, weight, discounted)) for m in serving],
        selected=selected,
        coupons={p.coupon_code or "": p for p in found.coupons},
        automatic=found.automatic,
    )


async def build_view(
    session: AsyncSession, cart: Cart, rules: CartRules, exclude: frozenset[int] = frozenset()
) -> CartView:
    """The cart priced as checkout would price it now.

    `exclude`: promotions this customer may not have (their per-customer limit is used).
    """
    views = await _line_views(session, cart, rules.now)
    found = await _offers(session, cart, rules.now, exclude)
    return _priced(cart, views, found, await active_methods(session), rules)


async def read_cart(db: Database, token: str, viewer: Viewer | None, rules: CartRules) -> CartView:
    """A cart by its token, for whoever may see it (NOT_FOUND or CART_EXPIRED otherwise)."""
    async with db.session() as session:
        cart = check_access(await find(session, token), viewer, rules.now)
        return await build_view(session, cart, rules)


async def read_views(db: Database, carts: Sequence[Cart], rules: CartRules) -> dict[int, CartView]:
    """The view of each of these carts (already found and checked), in one read session."""
    if not carts:
        return {}
    async with db.session() as session:
        return {cart.id: await build_view(session, cart, rules) for cart in carts if cart.id}


async def read_customer_cart(
    db: Database, user_id: int, now: datetime, rules: Callable[[], Awaitable[CartRules]]
) -> CartView | None:
    """A customer's active cart, unless it has expired. `rules` are asked for only when
    there is a cart to price (most sign-ins have none)."""
    async with db.session() as session:
        cart = await active_cart_of(session, user_id)
        if cart is None or cart.expires_at <= now:
            return None
        return await build_view(session, cart, await rules())
