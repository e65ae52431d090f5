"""Coupons on a cart: one is added only when it is valid now and takes something off."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.cart.access import CartRules, touch
from app.cart.models import Cart
from app.cart.view import CartView, build_view
from app.errors import ErrorCode, fail
from app.money import to_decimal
from app.pricing.engine import NotApplied, PromotionKind
from app.promotions import offers
from app.promotions.models import Promotion


async def apply_coupon(
    session: AsyncSession, cart: Cart, code: str, email: str | None, rules: CartRules
) -> CartView | None:
    """Adds a coupon when it is valid now and takes something off this cart.

    Returns the cart's new view (it had to be priced to judge the coupon), or None when
    the coupon was on the cart already.
    """
    normalized = offers.normalize_code(code)
    if normalized in cart.coupon_codes:
        return None
    if len(cart.coupon_codes) >= offers.MAX_COUPONS_PER_CART:
        raise fail(ErrorCode.INVALID, "a cart takes at most 5 coupons", "code")
    found = (
        await session.exec(select(Promotion).where(Promotion.coupon_code == normalized))
    ).first()
    uses = await offers.customer_uses(session, [found.id] if found and found.id else [], email)
    problem = offers.coupon_problem(
        normalized, found, rules.now, uses.get(found.id or 0, 0) if found else 0
    )
    if problem is not None:
        raise problem
    assert found is not None
    cart.coupon_codes = [*cart.coupon_codes, normalized]
    view = await build_view(session, cart, rules)
    missed = next((n for n in view.pricing.not_applied if n.rule.id == found.id), None)
    # Free shipping waits for a shipping method to be chosen; it is not refused for lack of one.
    waits_for_shipping = (
        PromotionKind(found.kind) is PromotionKind.FREE_SHIPPING and view.selected is None
    )
    if missed is not None and not waits_for_shipping:
        raise fail(
            ErrorCode.COUPON_NOT_APPLICABLE,
            f"the coupon {normalized} does not apply: {_explain(missed, rules)}",
            "code",
        )
    touch(cart, rules)
    await session.flush()
    return view


def _explain(missed: NotApplied, rules: CartRules) -> str:
    if missed.missing is not None:
        currency = rules.settings.currency
        return f"spend {to_decimal(missed.missing, currency)} {currency} more to use it"
    return missed.reason


async def remove_coupon(session: AsyncSession, cart: Cart, code: str, rules: CartRules) -> None:
    normalized = offers.normalize_code(code)
    cart.coupon_codes = [c for c in cart.coupon_codes if c != normalized]
    touch(cart, rules)
    await session.flush()
