"""What a payment's success means for its order, and what the gateway's events do.

A payment that succeeded is applied to its order up to what is due; when nothing
is due any more the order is PAID. What the order does not need (it was
cancelled, or paid meanwhile by another payment) is refunded at once through the
gateway: money never stays with the shop for an order that did not take it.

Only the gateway's signed word changes a card payment: PENDING becomes
SUCCEEDED or FAILED; a success after a failure is believed (the customer tried
again), a failure after a success is stale news and ignored; the same news
twice changes nothing. A `refund.succeeded` completes the refund part it names.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.money import display
from app.orders import emails, events, transitions, updates
from app.orders.models import Order, OrderEventType, OrderStatus
from app.payments.gateway_events import EventType, GatewayEvent
from app.payments.models import (
    NotificationState,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundAllocation,
    RefundKind,
    RefundStatus,
)
from app.payments.refunds import Part, Refunder

log = logging.getLogger("commerce.payments")

_METHOD_WORDS = {
    PaymentMethod.CARD: "card",
    PaymentMethod.GIFT_CARD: "gift card",
    PaymentMethod.POINTS: "points",
}


async def credit_order(
    session: AsyncSession, order: Order, payment: Payment, refunder: Refunder, now: datetime
) -> int:
    """Applies a payment that succeeded to its locked order, up to what is due, and refunds
    the rest; how much it applied."""
    assert order.id is not None
    applied = min(payment.amount, order.amount_due) if order.status == OrderStatus.UNPAID else 0
    method = _METHOD_WORDS[PaymentMethod(payment.method)]
    if applied:
        order.amount_due -= applied
        updates.order_changed(session, order.id)
        events.record(
            session, order.id, OrderEventType.PAYMENT_RECEIVED,
            f"{display(applied, order.currency)} received by {method}", now,
        )  # fmt: skip
        if order.amount_due == 0:
            transitions.move(session, order, OrderStatus.PAID, "paid in full", now)
            await emails.order_paid(session, order, now)
    excess = payment.amount - applied
    if excess:
        why = (
            f"the order was {OrderStatus(order.status).value.lower()} when the payment arrived"
            if not applied
            else "more than was due"
        )
        await refunder.refund(
            session, order, RefundKind.EXCESS, [Part(payment, excess)],
            f"{method} payment not needed: {why}", None, now,
        )  # fmt: skip
    return applied


@dataclass(frozen=True, slots=True)
class Settled:
    """What an event did: the notification's state, why, and the payment it was about."""

    state: NotificationState
    note: str = ""
    payment_id: int | None = None


async def _payment_of(session: AsyncSession, provider: str, reference: str) -> Payment | None:
    return (
        await session.exec(
            select(Payment)
            .where(Payment.provider == provider, Payment.provider_reference == reference)
            .execution_options(populate_existing=True)
        )
    ).first()


async def settle(
    session: AsyncSession, provider: str, event: GatewayEvent, refunder: Refunder, now: datetime
) -> Settled:
    """Acts on one of the gateway's events, in the caller's transaction."""
    if event.type is EventType.REFUND_SUCCEEDED:
        return await _refund_succeeded(session, provider, event, now)
    payment = await _payment_of(session, provider, event.reference)
    if payment is None:
        log.warning("payment event %s: no payment has the reference %s", event.id, event.reference)
        return Settled(NotificationState.IGNORED, "no payment has this reference")
    mismatch = event.mismatch(payment.amount, payment.currency)
    if mismatch is not None:
        log.warning("payment event %s refused: %s", event.id, mismatch)
        return Settled(NotificationState.REJECTED, mismatch, payment.id)
    # The order first (the lock order), then the payment as it is under that lock.
    order = await transitions.lock(session, payment.order_id)
    payment = await _payment_of(session, provider, event.reference)
    assert order is not None
    assert payment is not None
    assert payment.id is not None
    status = PaymentStatus(payment.status)
    if event.type is EventType.PAYMENT_SUCCEEDED:
        if status is PaymentStatus.SUCCEEDED:
            return Settled(
                NotificationState.IGNORED, "the payment had succeeded already", payment.id
            )
        payment.status = PaymentStatus.SUCCEEDED.value
        payment.settled_at = now
        await credit_order(session, order, payment, refunder, now)
        return Settled(NotificationState.PROCESSED, "", payment.id)
    if status is not PaymentStatus.PENDING:
        return Settled(
            NotificationState.IGNORED, f"the payment had {status.value.lower()} already", payment.id
        )
    payment.status = PaymentStatus.FAILED.value
    payment.settled_at = now
    assert order.id is not None
    events.record(
        session, order.id, OrderEventType.PAYMENT_FAILED,
        f"card payment of {display(payment.amount, payment.currency)} failed", now,
    )  # fmt: skip
    return Settled(NotificationState.PROCESSED, "", payment.id)


async def _pending_refund_part(
    session: AsyncSession, provider: str, event: GatewayEvent
) -> tuple[RefundAllocation | None, Payment | None]:
    """The card refund part the event names: by the gateway's reference of the refund, or
    the oldest part still waiting of the payment it names, for the event's amount."""
    found = (
        await session.exec(
            select(RefundAllocation, Payment)
            .join(Payment, col(Payment.id) == col(RefundAllocation.payment_id))
            .where(
                Payment.provider == provider,
                RefundAllocation.provider_reference == event.reference,
            )
        )
    ).first()
    if found is not None:
        return found[0], found[1]
    payment = await _payment_of(session, provider, event.reference)
    if payment is None:
        return None, None
    waiting = (
        await session.exec(
            select(RefundAllocation)
            .where(
                RefundAllocation.payment_id == payment.id,
                RefundAllocation.status == RefundStatus.PENDING,
            )
            .order_by(col(RefundAllocation.id))
        )
    ).all()
    matching = [a for a in waiting if event.mismatch(a.amount, payment.currency) is None]
    return (matching or list(waiting) or [None])[0], payment


async def _refund_succeeded(
    session: AsyncSession, provider: str, event: GatewayEvent, now: datetime
) -> Settled:
    allocation, payment = await _pending_refund_part(session, provider, event)
    if payment is None:
        log.warning("refund event %s: no payment has the reference %s", event.id, event.reference)
        return Settled(NotificationState.IGNORED, "no payment or refund has this reference")
    if allocation is None:
        return Settled(NotificationState.IGNORED, "no refund of this payment waits", payment.id)
    mismatch = event.mismatch(allocation.amount, payment.currency)
    if mismatch is not None:
        log.warning("refund event %s refused: %s", event.id, mismatch)
        return Settled(NotificationState.REJECTED, mismatch, payment.id)
    order = await transitions.lock(session, payment.order_id)
    allocation = await session.get(RefundAllocation, allocation.id, populate_existing=True)
    assert order is not None
    assert order.id is not None
    assert allocation is not None
    if allocation.status != RefundStatus.PENDING:
        return Settled(NotificationState.IGNORED, "the refund had succeeded already", payment.id)
    allocation.status = RefundStatus.SUCCEEDED.value
    allocation.completed_at = now
    await session.flush()
    refund = await session.get(Refund, allocation.refund_id, populate_existing=True)
    assert refund is not None
    waiting = (
        await session.exec(
            select(RefundAllocation.id).where(
                RefundAllocation.refund_id == refund.id,
                RefundAllocation.status == RefundStatus.PENDING,
            )
        )
    ).first()
    if waiting is None:
        refund.status = RefundStatus.SUCCEEDED.value
        refund.completed_at = now
        events.record(
            session, order.id, OrderEventType.REFUNDED,
            f"{display(refund.amount, refund.currency)} refunded "
            f"({RefundKind(refund.kind).value.lower()})", now,
        )  # fmt: skip
    return Settled(NotificationState.PROCESSED, "", payment.id)
