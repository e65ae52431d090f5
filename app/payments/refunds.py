"""Refunds: money given back for an order, split over the payments it came from.

Each part (`RefundAllocation`) goes back through its payment's tender: a gift card
and points at once, with their ledger entries; a card through the gateway, asked
only once the transaction that recorded the refund has committed, and done when
the gateway's `refund.succeeded` webhook says so (`settlement`). A request the
gateway did not take (it was down) is sent again by the upkeep (`send_unsent`),
with the same idempotency key, so it is never made twice.

Lock order (`app.inventory.locking`): the order (locked by the caller), then gift
cards in id order, then the customer's points; payment and refund rows belong to
the locked order.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.database import Database, after_commit, written
from app.errors import ErrorCode, fail
from app.giftcards import cards
from app.ledger import Source
from app.loyalty import points
from app.loyalty.models import PointsEntryKind
from app.money import display, scale
from app.orders import emails, events
from app.orders.cancellation import Cancellation
from app.orders.models import Order, OrderEventType
from app.orders.updates import order_changed
from app.payments.gateways import PaymentGateway
from app.payments.models import (
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundAllocation,
    RefundKind,
    RefundStatus,
)

log = logging.getLogger("commerce.payments")

# The upkeep sends again what the gateway has not taken after this long.
RESEND_AFTER = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Part:
    """`amount` of one payment, to give back."""

    payment: Payment
    amount: int


def points_given_back(payment: Payment, amount: int) -> int:
    """The points of a points payment that `amount` more of it refunded gives back: the
    share of the points that the refunded share of the money was paid with, so that a
    payment refunded in full, in one part or many, gives back every point it took."""
    assert payment.points is not None
    before = scale(payment.points, payment.refunded, payment.amount)
    return scale(payment.points, payment.refunded + amount, payment.amount) - before


class Refunder:
    """Gives money back through the tenders it came from (and the gateway)."""

    def __init__(self, db: Database, gateway: PaymentGateway) -> None:
        self.db = db
        self.gateway = gateway

    async def refund_in_full(
        self, session: AsyncSession, order: Order, cancellation: Cancellation, now: datetime
    ) -> int:
        """Everything paid for a (cancelled) order, back through each tender; the amount
        (`app.orders.cancellation.RefundAll`)."""
        paid = (
            await session.exec(
                select(Payment)
                .where(Payment.order_id == order.id, Payment.status == PaymentStatus.SUCCEEDED)
                .order_by(col(Payment.id))
                .execution_options(populate_existing=True)
            )
        ).all()
        parts = [Part(p, p.refundable) for p in paid if p.refundable > 0]
        if not parts:
            return 0
        refund = await self.refund(
            session, order, RefundKind.CANCELLATION, parts, cancellation.reason,
            cancellation.by, now,
        )  # fmt: skip
        return refund.amount

    async def refund(
        self,
        session: AsyncSession,
        order: Order,
        kind: RefundKind,
        parts: Sequence[Part],
        reason: str,
        by: int | None,
        now: datetime,
    ) -> Refund:
        """Records a refund of `parts` of a locked order's payments and gives them back:
        gift cards and points at once, cards once this transaction has committed.
        AMOUNT_EXCEEDED (and the transaction must roll back) if a part is more than is
        left of its payment."""
        assert order.id is not None
        assert parts
        total = sum(part.amount for part in parts)
        refund = Refund(
            order_id=order.id, kind=kind.value, status=RefundStatus.PENDING.value, amount=total,
            currency=order.currency, reason=reason, created_by=by, created_at=now,
        )  # fmt: skip
        session.add(refund)
        await session.flush()
        assert refund.id is not None
        # Gift cards in id order (the lock order), then points, then cards.
        ordered = sorted(
            parts, key=lambda p: (_tender_rank(p.payment), p.payment.gift_card_id or 0)
        )
        sent: list[RefundAllocation] = []
        for part in ordered:
            allocation = await self._allocate(session, order, refund.id, part, now)
            if allocation.status == RefundStatus.PENDING:
                sent.append(allocation)
        if kind.counts_against_order:
            order.total_refunded += total
        order_changed(session, order.id)
        if kind is not RefundKind.CANCELLATION:  # the cancellation's own email tells of it
            emails.refunded(session, order, total, reason, now)
        described = display(total, order.currency)
        if sent:
            events.record(
                session, order.id, OrderEventType.REFUND_STARTED,
                f"refund of {described} started ({kind.value.lower()})", now,
            )  # fmt: skip
            after_commit(session, lambda: self.send([a.id for a in sent if a.id is not None]))
        else:
            refund.status = RefundStatus.SUCCEEDED.value
            refund.completed_at = now
            events.record(
                session, order.id, OrderEventType.REFUNDED,
                f"{described} refunded ({kind.value.lower()})", now,
            )  # fmt: skip
        await session.flush()
        return refund

    async def _allocate(
        self, session: AsyncSession, order: Order, refund_id: int, part: Part, now: datetime
    ) -> RefundAllocation:
        payment = part.payment
        assert payment.id is not None
        taken = (
            await session.exec(  # type: ignore[call-overload]
                update(Payment)
                .where(
                    col(Payment.id) == payment.id,
                    col(Payment.status) == PaymentStatus.SUCCEEDED,
                    col(Payment.refunded) + part.amount <= col(Payment.amount),
                )
                .values(refunded=col(Payment.refunded) + part.amount)
            )
        ).rowcount
        if taken != 1:
            raise fail(
                ErrorCode.AMOUNT_EXCEEDED,
                f"only {display(payment.refundable, payment.currency)} of the payment is left "
                "to refund",
            )
        method = PaymentMethod(payment.method)
        paid = Source(order_id=order.id, payment_id=payment.id, refund_id=refund_id)
        done = method is not PaymentMethod.CARD
        if method is PaymentMethod.GIFT_CARD:
            assert payment.gift_card_id is not None
            await cards.refill(session, payment.gift_card_id, part.amount, paid, now)
        elif method is PaymentMethod.POINTS:
            given = points_given_back(payment, part.amount)
            assert order.user_id is not None, "only customers pay with points"
            if given:
                await points.credit(
                    session, order.user_id, given, PointsEntryKind.REFUNDED, paid, now
                )
        written(payment, refunded=payment.refunded + part.amount)
        allocation = RefundAllocation(
            refund_id=refund_id,
            payment_id=payment.id,
            method=method.value,
            status=(RefundStatus.SUCCEEDED if done else RefundStatus.PENDING).value,
            amount=part.amount,
            created_at=now,
            completed_at=now if done else None,
        )
        session.add(allocation)
        await session.flush()
        return allocation

    async def send(self, allocation_ids: Sequence[int]) -> int:
        """Asks the gateway for card refunds recorded (and committed) earlier; how many it
        took. A failure is logged and left for the upkeep to send again."""
        taken = 0
        for allocation_id in allocation_ids:
            try:
                taken += await self._send(allocation_id)
            except Exception:  # the gateway or the database: try again next round
                log.exception("refund allocation %s: the gateway did not take it", allocation_id)
        return taken

    async def _send(self, allocation_id: int) -> int:
        async with self.db.session() as session:
            found = (
                await session.exec(
                    select(RefundAllocation, Payment)
                    .join(Payment, col(Payment.id) == col(RefundAllocation.payment_id))
                    .where(RefundAllocation.id == allocation_id)
                )
            ).first()
        if found is None:
            return 0
        allocation, payment = found
        if allocation.provider_reference is not None or payment.provider_reference is None:
            return 0
        requested = await self.gateway.refund(
            payment.provider_reference,
            allocation.amount,
            payment.currency,
            idempotency_key=f"refund-allocation-{allocation_id}",
        )

        async def store(session: AsyncSession) -> None:
            await session.exec(  # type: ignore[call-overload]
                update(RefundAllocation)
                .where(
                    col(RefundAllocation.id) == allocation_id,
                    col(RefundAllocation.provider_reference).is_(None),
                )
                .values(provider_reference=requested.reference)
            )

        await self.db.run_transaction(store, "store a refund's gateway reference")
        return 1

    async def send_unsent(self, now: datetime, limit: int = 100) -> int:
        """Card refunds the gateway has not taken yet, recorded a while ago (the upkeep)."""
        async with self.db.session() as session:
            unsent = (
                await session.exec(
                    select(RefundAllocation.id)
                    .where(
                        RefundAllocation.status == RefundStatus.PENDING,
                        RefundAllocation.method == PaymentMethod.CARD,
                        col(RefundAllocation.provider_reference).is_(None),
                        col(RefundAllocation.created_at) <= now - RESEND_AFTER,
                    )
                    .order_by(col(RefundAllocation.id))
                    .limit(limit)
                )
            ).all()
        return await self.send([i for i in unsent if i is not None])


def _tender_rank(payment: Payment) -> int:
    return [PaymentMethod.GIFT_CARD, PaymentMethod.POINTS, PaymentMethod.CARD].index(
        PaymentMethod(payment.method)
    )
