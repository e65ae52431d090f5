"""The order a checkout writes: a snapshot of the priced cart, its lines, where their
units were taken from, and the promotions it used."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from app.cart.access import CartRules
from app.cart.view import CartView
from app.inventory.allocation import Take
from app.orders import emails, events, transitions
from app.orders.models import Order, OrderEventType, OrderLine, OrderStatus
from app.promotions.redemptions import record_redemptions


@dataclass(frozen=True, slots=True)
class Buyer:
    """Who orders: the account (if signed in), the email the order goes to, and who
    per-customer limits count (the account's email when signed in)."""

    user_id: int | None
    email: str
    counted_as: str


def _order_row(view: CartView, buyer: Buyer, key: str, note: str, rules: CartRules) -> Order:
    pricing = view.pricing
    assert view.selected is not None
    assert view.cart.shipping_address is not None
    now = rules.now
    return Order(
        user_id=buyer.user_id,
        cart_id=view.cart.id,
        idempotency_key=key,
        email=buyer.email,
        status=OrderStatus.UNPAID.value,
        currency=rules.settings.currency,
        subtotal=pricing.subtotal,
        discount_total=pricing.discount_total,
        shipping_total=pricing.shipping_total,
        shipping_tax=pricing.shipping_tax,
        tax_total=pricing.tax_total,
        total=pricing.total,
        amount_due=pricing.total,
        shipping_address=dict(view.cart.shipping_address),
        shipping_method={
            "id": view.selected.id,
            "name": view.selected.name,
            "carrier": view.selected.carrier,
            # What a shipment's estimated delivery counts from its day of sending.
            "minDays": view.selected.min_days,
            "maxDays": view.selected.max_days,
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
        note=note.strip(),
        placed_at=now,
        expires_at=now + timedelta(seconds=rules.settings.unpaid_order_timeout_seconds),
        token=secrets.token_urlsafe(24),
    )


def _line_rows(view: CartView, takes: Sequence[Take], order_id: int) -> list[dict[str, Any]]:
    priced = {p.key: p for p in view.pricing.lines}
    rows = []
    for v in view.lines:
        key = v.line.id or 0
        rows.append(
            {
                "order_id": order_id,
                "variant_id": v.variant.id,
                "product_id": v.product.id,
                "sku": v.variant.sku,
                "product_name": v.product.name,
                "variant_name": v.variant.name,
                "quantity": v.line.quantity,
                "unit_price": v.variant.price,
                "subtotal": priced[key].subtotal,
                "discount_allocated": priced[key].discount,
                "tax": priced[key].tax,
                "total": priced[key].total,
                "discounts": [
                    {"promotionId": a.rule.id, "amount": a.line_shares[key]}
                    for a in view.pricing.applied
                    if key in a.line_shares
                ],
                "allocations": [t.record() for t in takes if t.variant_id == v.variant.id],
            }
        )
    return rows


async def record_order(
    session: AsyncSession,
    view: CartView,
    takes: Sequence[Take],
    buyer: Buyer,
    key: str,
    note: str,
    rules: CartRules,
) -> Order:
    """Writes the order, its lines, its redemptions and its first event: one statement
    each, however many lines."""
    order = _order_row(view, buyer, key, note, rules)
    session.add(order)
    await session.flush()
    assert order.id is not None
    await session.exec(insert(OrderLine), params=_line_rows(view, takes, order.id))  # type: ignore[call-overload]
    await record_redemptions(
        session, [a.rule.id for a in view.pricing.applied], order.id, buyer.counted_as, rules.now
    )
    events.record(session, order.id, OrderEventType.PLACED, "order placed", rules.now)
    if order.total == 0:
        # Nothing to pay (promotions took it all): left UNPAID, it would only expire.
        transitions.move(session, order, OrderStatus.PAID, "nothing to pay", rules.now)
        await emails.order_paid(session, order, rules.now)
    return order
