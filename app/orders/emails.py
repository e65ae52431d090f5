"""What customers are told by email about their orders: the confirmation once an order
is paid, its cancellation, refunds, and a return staff turned down.

Each is queued in the caller's transaction (`app.notifications.queue_email`), so it
goes out once, after the change it reports has committed, and never for a change
that rolled back. The confirmation waits for the payment: an unpaid order may
still expire, and is not one the shop has accepted yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.money import display
from app.notifications import Email, queue_email
from app.orders.models import Order, OrderLine

SIGNATURE = "\n\nThank you for shopping with us."


def _money(order: Order, minor: int) -> str:
    return display(minor, order.currency)


def confirmation(order: Order, lines: Sequence[OrderLine]) -> Email:
    items = "\n".join(
        f"  {line.quantity} x {line.product_name} ({line.variant_name})"
        f"  {_money(order, line.total)}"
        for line in lines
    )
    text = (
        f"Thank you for your order {order.number}: we have received your payment and are "
        f"getting it ready.\n\n{items}\n\n"
        f"Subtotal: {_money(order, order.subtotal)}\n"
        f"Discount: {_money(order, order.discount_total)}\n"
        f"Shipping: {_money(order, order.shipping_total)}\n"
        f"Tax: {_money(order, order.tax_total)}\n"
        f"Total: {_money(order, order.total)}\n\n"
        "We will write again when it ships." + SIGNATURE
    )
    return Email(order.email, f"Order {order.number} confirmed", text, order.id)


async def order_paid(session: AsyncSession, order: Order, now: datetime) -> None:
    """The confirmation of an order that has just been paid in full."""
    lines = (
        await session.exec(
            select(OrderLine).where(OrderLine.order_id == order.id).order_by(col(OrderLine.id))
        )
    ).all()
    queue_email(session, confirmation(order, lines), now)


def cancellation(order: Order, reason: str, refunded: int) -> Email:
    money = (
        f"\n\n{_money(order, refunded)} goes back the way you paid: gift card and points at "
        "once, a card within a few days."
        if refunded
        else ""
    )
    text = f"Your order {order.number} has been cancelled ({reason}).{money}{SIGNATURE}"
    return Email(order.email, f"Order {order.number} cancelled", text, order.id)


def order_cancelled(
    session: AsyncSession, order: Order, reason: str, refunded: int, now: datetime
) -> None:
    queue_email(session, cancellation(order, reason, refunded), now)


def refund(order: Order, amount: int, reason: str) -> Email:
    why = f" ({reason})" if reason else ""
    text = (
        f"We have refunded {_money(order, amount)} for your order {order.number}{why}. It "
        "goes back the way you paid: gift card and points at once, a card within a few days."
        + SIGNATURE
    )
    return Email(order.email, f"Refund for order {order.number}", text, order.id)


def refunded(session: AsyncSession, order: Order, amount: int, reason: str, now: datetime) -> None:
    queue_email(session, refund(order, amount, reason), now)


def return_rejected(session: AsyncSession, order: Order, reason: str, now: datetime) -> None:
    text = (
        f"We are sorry: we cannot accept your return for order {order.number}.\n\n"
        f"{reason}" + SIGNATURE
    )
    queue_email(session, Email(order.email, f"Your return for order {order.number}", text,
                               order.id), now)  # fmt: skip
