"""Checkout: a cart becomes an order in the caller's transaction, or nothing changes.

The cart row is locked first (PostgreSQL; SQLite serialises writers), so two
requests for one cart run one after the other: a retry with the same
idempotency key finds the order the first one made. Stock is taken with
conditional updates that cannot go below what is available, promotion uses
are counted without passing their limits, and any failure rolls everything
back. Each step is one statement for all lines, so an order of five lines
costs what an order of one does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.permissions import Viewer
from app.accounts.users import is_valid_email, normalize_email
from app.cart.access import CartRules, check_access, find
from app.cart.contents import on_sale
from app.cart.models import Cart, CartStatus
from app.cart.view import CartView, build_view
from app.checkout.order import Buyer, record_order
from app.errors import ErrorCode, Problems, fail
from app.inventory import sales
from app.inventory.allocation import Take
from app.orders.models import Order
from app.promotions import offers, redemptions
from app.promotions.models import Promotion

MAX_KEY_LENGTH = 128
MAX_NOTE_LENGTH = 2000


@dataclass(frozen=True, slots=True)
class CheckoutInput:
    accept_terms: bool
    idempotency_key: str
    email: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class CheckedInput:
    """A checkout's input once checked: the order's email (the account's by default)."""

    idempotency_key: str
    email: str
    note: str


def check_input(data: CheckoutInput, viewer: Viewer | None) -> CheckedInput:
    """Every problem with the input at once, before anything is read or locked."""
    problems = Problems()
    if not data.accept_terms:
        problems.add(
            ErrorCode.TERMS_NOT_ACCEPTED, "accept the terms to order", "input", "accept_terms"
        )
    if not 0 < len(data.idempotency_key) <= MAX_KEY_LENGTH:
        problems.add(
            ErrorCode.INVALID,
            f"idempotencyKey must have 1 to {MAX_KEY_LENGTH} characters",
            "input",
            "idempotency_key",
        )
    email = normalize_email(data.email) if data.email else (viewer.email if viewer else "")
    if not email:
        problems.add(ErrorCode.REQUIRED, "an email address is required", "input", "email")
    elif not is_valid_email(email):
        problems.add(ErrorCode.INVALID, "enter a valid email address", "input", "email")
    if data.note is not None and len(data.note) > MAX_NOTE_LENGTH:
        problems.add(
            ErrorCode.INVALID,
            f"note may have at most {MAX_NOTE_LENGTH} characters",
            "input",
            "note",
        )
    problems.raise_if_any()
    return CheckedInput(data.idempotency_key, email, data.note or "")


async def _earlier_order(
    session: AsyncSession, cart: Cart | None, viewer: Viewer | None, key: str
) -> Order | None:
    """The order an earlier checkout of this cart with this key made, for its owner."""
    if cart is None or cart.id is None:
        return None
    query = select(Order).where(Order.cart_id == cart.id, Order.idempotency_key == key)
    done = (await session.exec(query)).first()
    if done is not None and (cart.user_id is None or (viewer and viewer.user_id == cart.user_id)):
        return done
    return None


def _require_orderable(view: CartView) -> None:
    """What a cart needs before anything is taken: lines on sale, an address, a method
    that delivers there."""
    if not view.lines:
        raise fail(ErrorCode.CART_EMPTY, "the cart is empty", "cart_id")
    for index, line in enumerate(view.lines):
        if not on_sale(line.product):
            raise fail(
                ErrorCode.NOT_FOUND,
                f"{line.product.name} is no longer on sale; remove it from the cart",
                "lines", str(index),
            )  # fmt: skip
    if view.cart.shipping_address is None:
        raise fail(ErrorCode.SHIPPING_ADDRESS_REQUIRED, "set a shipping address", "cart_id")
    if view.cart.shipping_method_id is None:
        raise fail(ErrorCode.SHIPPING_METHOD_REQUIRED, "choose a shipping method", "cart_id")
    if view.selected is None:
        raise fail(
            ErrorCode.SHIPPING_NOT_AVAILABLE,
            "the chosen shipping method does not deliver to this address",
            "cart_id",
        )


async def _take_stock(session: AsyncSession, view: CartView, now: datetime) -> list[Take]:
    """The units of every line, taken at once; the cart's own holds become the sale."""
    needs: dict[int, int] = {}
    for line in view.lines:
        variant_id = line.variant.id or 0
        needs[variant_id] = needs.get(variant_id, 0) + line.line.quantity
    held_for = [v.line.id for v in view.lines if v.line.id]
    result = await sales.take_for_order(session, needs, held_for, now)
    if isinstance(result, list):
        return result
    variant_id, available = next(iter(result.items()))
    index = next(i for i, v in enumerate(view.lines) if v.variant.id == variant_id)
    raise fail(
        ErrorCode.INSUFFICIENT_STOCK,
        f"only {available} of {view.lines[index].variant.sku} available",
        "lines", str(index), "quantity",
    )  # fmt: skip


async def _check_limits(
    session: AsyncSession, view: CartView, customer: str, now: datetime
) -> frozenset[int]:
    """Coupons on the cart must still be usable (the customer saw their discount); an
    automatic promotion this customer has used up is dropped. Returns the dropped ids.

    Promotions with a per-customer limit are locked first (after the stock, in id order,
    as cancellations do), so two checkouts of one customer count one after the other.
    """
    limited = await redemptions.lock_limited(session, [*view.coupons.values(), *view.automatic])
    uses = await offers.customer_uses(session, limited, customer)
    for code in view.cart.coupon_codes:
        promotion = view.coupons.get(code)
        problem = offers.coupon_problem(
            code, promotion, now, uses.get(promotion.id or 0, 0) if promotion else 0
        )
        if problem is not None:
            raise problem
    return frozenset(
        p.id
        for p in view.automatic
        if p.id is not None
        and p.per_customer_limit is not None
        and uses.get(p.id, 0) >= p.per_customer_limit
    )


def _used(view: CartView) -> Sequence[Promotion]:
    """The promotions the priced cart applies, in the order pricing applied them."""
    used: list[Promotion] = []
    for applied in view.pricing.applied:
        promotion = view.promotion(applied.rule.id)
        assert promotion is not None, "pricing applies only the promotions it was given"
        used.append(promotion)
    return used


async def place_order(
    session: AsyncSession,
    viewer: Viewer | None,
    token: str,
    checked: CheckedInput,
    rules: CartRules,
) -> Order:
    """The order for the cart `token`: placed now, or the one an earlier request with the
    same idempotency key placed."""
    cart = await find(session, token, lock=True)
    done = await _earlier_order(session, cart, viewer, checked.idempotency_key)
    if done is not None:
        return done
    cart = check_access(cart, viewer, rules.now)
    view = await build_view(session, cart, rules)
    _require_orderable(view)
    takes = await _take_stock(session, view, rules.now)
    # Signed-in customers are counted by their account, whatever email they give.
    buyer = Buyer(
        user_id=cart.user_id or (viewer.user_id if viewer else None),
        email=checked.email,
        counted_as=viewer.email if viewer else checked.email,
    )
    excluded = await _check_limits(session, view, buyer.counted_as, rules.now)
    if excluded:
        view = await build_view(session, cart, rules, excluded)
    await redemptions.count_uses(session, _used(view))
    order = await record_order(
        session, view, takes, buyer, checked.idempotency_key, checked.note, rules
    )
    cart.status = CartStatus.ORDERED.value
    cart.updated_at = rules.now
    await session.flush()
    return order
