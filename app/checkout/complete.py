"""Checkout: a cart becomes an order in one transaction, or nothing changes.

The cart row is locked first (PostgreSQL; SQLite serialises writers), so two
requests for one cart run one after the other: a retry with the same
idempotency key finds the order the first one made. Stock is taken with
conditional updates that cannot go below what is on hand, coupon uses are
counted without passing their limit, and any failure rolls everything back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.permissions import Viewer
from app.accounts.users import is_valid_email, normalize_email
from app.cart import carts, holds
from app.cart.models import CartStatus
from app.catalog import stock
from app.catalog.models import ProductStatus, Stock
from app.checkout import allocation, promotions
from app.checkout.models import Promotion, PromotionRedemption
from app.database import Database
from app.errors import ErrorCode, Problems, fail
from app.orders.models import Order, OrderEvent, OrderLine, OrderStatus

MAX_KEY_LENGTH = 128


@dataclass(frozen=True, slots=True)
class CheckoutInput:
    accept_terms: bool
    idempotency_key: str
    email: str | None = None
    note: str | None = None


def _check_input(data: CheckoutInput, viewer: Viewer | None) -> str:
    problems = Problems()
    if not data.accept_terms:
        problems.add(
            ErrorCode.TERMS_NOT_ACCEPTED, "accept the terms to order", "input", "acceptTerms"
        )
    if not 0 < len(data.idempotency_key) <= MAX_KEY_LENGTH:
        problems.add(
            ErrorCode.INVALID,
            f"idempotencyKey must have 1 to {MAX_KEY_LENGTH} characters",
            "input",
            "idempotencyKey",
        )
    email = normalize_email(data.email) if data.email else (viewer.email if viewer else "")
    if not email:
        problems.add(ErrorCode.REQUIRED, "an email address is required", "input", "email")
    elif not is_valid_email(email):
        problems.add(ErrorCode.INVALID, "enter a valid email address", "input", "email")
    if data.note is not None and len(data.note) > 2000:
        problems.add(ErrorCode.INVALID, "note may have at most 2000 characters", "input", "note")
    problems.raise_if_any()
    return email


async def _existing(session: AsyncSession, cart_id: int, key: str) -> Order | None:
    query = select(Order).where(Order.cart_id == cart_id, Order.idempotency_key == key)
    return (await session.exec(query)).first()


async def complete(
    db: Database,
    viewer: Viewer | None,
    token: str,
    data: CheckoutInput,
    rules: carts.CartRules,
) -> Order:
    email = _check_input(data, viewer)
    now = rules.now
    async with db.transaction() as session:
        cart = await carts.find(session, token, lock=True)
        if cart is not None and cart.id is not None:
            done = await _existing(session, cart.id, data.idempotency_key)
            if done is not None and (
                cart.user_id is None or (viewer and viewer.user_id == cart.user_id)
            ):
                return done
        cart = carts.check_access(cart, viewer, now)
        assert cart.id is not None
        view = await carts.build_view(session, cart, rules)
        if not view.lines:
            raise fail(ErrorCode.CART_EMPTY, "the cart is empty", "cartId")
        for index, line in enumerate(view.lines):
            if line.product.status != ProductStatus.PUBLISHED.value:
                raise fail(
                    ErrorCode.NOT_FOUND,
                    f"{line.product.name} is no longer on sale; remove it from the cart",
                    "lines", str(index),
                )  # fmt: skip
        address = cart.shipping_address
        if address is None:
            raise fail(ErrorCode.SHIPPING_ADDRESS_REQUIRED, "set a shipping address", "cartId")
        if cart.shipping_method_id is None:
            raise fail(ErrorCode.SHIPPING_METHOD_REQUIRED, "choose a shipping method", "cartId")
        if view.selected is None:
            raise fail(
                ErrorCode.SHIPPING_NOT_AVAILABLE,
                "the chosen shipping method does not deliver to this address",
                "cartId",
            )
        takes = await _take_stock(session, view, now)
        # Signed-in customers are counted by their account, whatever email they give.
        customer = viewer.email if viewer else email
        excluded = await _check_limits(session, view, customer, now)
        if excluded:
            view = await carts.build_view(session, cart, rules, excluded)

        pricing = view.pricing
        priced = {p.key: p for p in pricing.lines}
        for applied in pricing.applied:
            promotion = _promotion(view, applied.rule.id)
            assert promotion is not None
            await promotions.count_use(session, promotion)
        order = Order(
            user_id=cart.user_id or (viewer.user_id if viewer else None),
            cart_id=cart.id,
            idempotency_key=data.idempotency_key,
            email=email,
            status=OrderStatus.UNPAID.value,
            currency=rules.settings.currency,
            subtotal=pricing.subtotal,
            discount_total=pricing.discount_total,
            shipping_total=pricing.shipping_total,
            shipping_tax=pricing.shipping_tax,
            tax_total=pricing.tax_total,
            total=pricing.total,
            amount_due=pricing.total,
            shipping_address=dict(address),
            shipping_method={
                "id": view.selected.id,
                "name": view.selected.name,
                "carrier": view.selected.carrier,
                "fee": pricing.shipping_fee,
                "discount": pricing.shipping_discount,
            },
            promotions=[
                {
                    "id": a.rule.id,
                    "name": a.rule.name,
                    "kind": a.rule.kind.value,
                    "couponCode": a.rule.coupon_code,
                    "amount": a.amount,
                }
                for a in pricing.applied
            ],
            note=(data.note or "").strip(),
            placed_at=now,
            expires_at=now + timedelta(seconds=rules.settings.unpaid_order_timeout_seconds),
        )
        session.add(order)
        await session.flush()
        assert order.id is not None
        session.add_all(
            [
                OrderLine(
                    order_id=order.id,
                    variant_id=v.variant.id,
                    product_id=v.product.id,
                    sku=v.variant.sku,
                    product_name=v.product.name,
                    variant_name=v.variant.name,
                    quantity=v.line.quantity,
                    unit_price=v.variant.price,
                    subtotal=priced[v.line.id or 0].subtotal,
                    discount_allocated=priced[v.line.id or 0].discount,
                    tax=priced[v.line.id or 0].tax,
                    total=priced[v.line.id or 0].total,
                    discounts=[
                        {"promotionId": a.rule.id, "amount": a.line_shares[v.line.id or 0]}
                        for a in pricing.applied
                        if (v.line.id or 0) in a.line_shares
                    ],
                    allocations=[
                        {
                            "stockId": t.stock_id,
                            "warehouseId": t.warehouse_id,
                            "quantity": t.quantity,
                        }
                        for t in takes
                        if t.variant_id == v.variant.id
                    ],
                )
                for v in view.lines
            ]
            + [
                PromotionRedemption(
                    promotion_id=a.rule.id,
                    order_id=order.id,
                    customer_email=customer,
                    created_at=now,
                )
                for a in pricing.applied
            ]
            + [OrderEvent(order_id=order.id, type="PLACED", message="order placed", created_at=now)]
        )
        cart.status = CartStatus.ORDERED.value
        cart.updated_at = now
    return order


def _promotion(view: carts.CartView, promotion_id: int) -> Promotion | None:
    for promotion in [*view.coupons.values(), *view.automatic]:
        if promotion.id == promotion_id:
            return promotion
    return None


async def _check_limits(
    session: AsyncSession, view: carts.CartView, customer: str, now: datetime
) -> frozenset[int]:
    """Coupons on the cart must still be usable (the customer saw their discount); an
    automatic promotion this customer has used up is dropped. Returns the dropped ids.

    Promotions with a per-customer limit are locked first (after the stock, in id order,
    as cancellations do), so two checkouts of one customer count one after the other.
    """
    candidates = [*view.coupons.values(), *view.automatic]
    limited = sorted(p.id for p in candidates if p.per_customer_limit is not None and p.id)
    if limited:
        await session.exec(
            select(Promotion.id)
            .where(col(Promotion.id).in_(limited))
            .order_by(col(Promotion.id))
            .with_for_update()
        )
    uses = await promotions.customer_uses(session, limited, customer)
    for code in view.cart.coupon_codes:
        promotion = view.coupons.get(code)
        problem = promotions.coupon_problem(
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


async def _take_stock(
    session: AsyncSession, view: carts.CartView, now: datetime
) -> list[allocation.Take]:
    needs: dict[int, int] = {}
    for line in view.lines:
        variant_id = line.variant.id or 0
        needs[variant_id] = needs.get(variant_id, 0) + line.line.quantity
    # Lock every stock row this order touches first, in id order (the cart's holds are on
    # them too); then the cart's own holds become the sale (released into what is
    # available), and the rows are read again as they are now.
    await stock.lock(session, variant_ids=needs)
    await holds.release_lines(session, [v.line.id for v in view.lines if v.line.id])
    # Other carts' holds that have run out no longer count, swept or not.
    await holds.release_expired(session, now, list(needs))
    rows = await stock.lock(session, variant_ids=needs)
    result = allocation.plan(
        needs,
        [
            allocation.StockRow(s.id or 0, s.variant_id, s.warehouse_id, s.quantity - s.reserved)
            for s in rows
        ],
    )
    if isinstance(result, dict):
        variant_id, available = next(iter(result.items()))
        index = next(i for i, v in enumerate(view.lines) if v.variant.id == variant_id)
        sku = view.lines[index].variant.sku
        raise fail(
            ErrorCode.INSUFFICIENT_STOCK,
            f"only {available} of {sku} available",
            "lines", str(index), "quantity",
        )  # fmt: skip
    for take in result:
        # Conditional: never below what is on hand and not held, whatever ran meanwhile.
        taken = await session.exec(  # type: ignore[call-overload]
            update(Stock)
            .where(
                col(Stock.id) == take.stock_id,
                col(Stock.quantity) - col(Stock.reserved) >= take.quantity,
            )
            .values(quantity=col(Stock.quantity) - take.quantity)
        )
        if taken.rowcount != 1:
            raise fail(ErrorCode.INSUFFICIENT_STOCK, "an item sold out while ordering", "cartId")
    return result
