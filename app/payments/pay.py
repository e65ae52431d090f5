"""Paying for an order (PaymentCreate): a card through the gateway, or the shop's own
tenders (a gift card, loyalty points), which are applied at once.

Several payments may pay one order (a gift card for part, the card for the rest).
`amount` defaults to what is due (for a gift card or points, as much of it as
their balance covers); more than is due is AMOUNT_EXCEEDED. A card payment stays
PENDING until the gateway's webhook says how it went: nothing a client says
changes it.

Lock order (`app.inventory.locking`): the order, then the gift card or the
customer's points.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.permissions import Viewer
from app.errors import DomainError, ErrorCode, fail
from app.giftcards import cards
from app.ids import OrderKey
from app.ledger import Source
from app.loyalty import points
from app.loyalty.points import PointsRates
from app.money import display
from app.orders import access, events, transitions
from app.orders.models import Order, OrderEventType, OrderStatus
from app.payments.models import Payment, PaymentMethod, PaymentStatus
from app.payments.refunds import Refunder
from app.payments.settlement import credit_order


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    method: PaymentMethod
    amount: int | None = None  # minor units; None: what is due (or what the tender covers)
    gift_card_code: str | None = None


@dataclass(frozen=True, slots=True)
class Started:
    payment: Payment
    order: Order
    # CARD only: what the client completes the payment with at the gateway (never stored).
    client_secret: str | None = None


def _exceeded(amount: int, limit: int, currency: str, what: str) -> DomainError:
    return fail(
        ErrorCode.AMOUNT_EXCEEDED,
        f"{display(amount, currency)} is more than {what} ({display(limit, currency)})",
        "amount",
    )


async def pay(
    session: AsyncSession,
    viewer: Viewer | None,
    key: OrderKey,
    request: PaymentRequest,
    refunder: Refunder,
    rates: PointsRates,
    now: datetime,
) -> Started:
    """Starts (a card) or makes (a gift card, points) a payment for the order `key`."""
    order = access.require_payer(
        viewer, await transitions.lock(session, key.order_id), key, "order_id"
    )
    if order.status != OrderStatus.UNPAID or order.amount_due == 0:
        raise fail(
            ErrorCode.INVALID_STATE,
            f"the order is {OrderStatus(order.status).value.lower()}: nothing is due",
            "order_id",
        )
    if request.amount is not None and request.amount <= 0:
        raise fail(ErrorCode.INVALID, "the amount must be more than zero", "amount")
    if request.amount is not None and request.amount > order.amount_due:
        raise _exceeded(request.amount, order.amount_due, order.currency, "is due")
    if request.method is PaymentMethod.CARD:
        return await _card(session, order, request.amount or order.amount_due, refunder, now)
    if request.method is PaymentMethod.GIFT_CARD:
        payment = await _gift_card(session, order, request, now)
    else:
        payment = await _points(session, viewer, order, request.amount, rates, now)
    await credit_order(session, order, payment, refunder, now)
    await session.flush()
    return Started(payment, order)


async def _card(
    session: AsyncSession, order: Order, amount: int, refunder: Refunder, now: datetime
) -> Started:
    assert order.id is not None
    gateway = refunder.gateway
    payment = Payment(
        order_id=order.id,
        method=PaymentMethod.CARD.value,
        status=PaymentStatus.PENDING.value,
        amount=amount,
        currency=order.currency,
        provider=gateway.name,
        created_at=now,
    )
    session.add(payment)
    await session.flush()
    # Inside the transaction, so that the reference is stored with the payment: if the
    # transaction fails, the gateway keeps an intent no client ever received.
    created = await gateway.create_payment(
        amount, order.currency, f"payment-{payment.id}", f"order {order.number}"
    )
    payment.provider_reference = created.reference
    events.record(
        session, order.id, OrderEventType.PAYMENT_STARTED,
        f"card payment of {display(amount, order.currency)} started", now,
    )  # fmt: skip
    await session.flush()
    return Started(payment, order, created.client_secret)


async def _own_tender(
    session: AsyncSession, order: Order, method: PaymentMethod, amount: int, now: datetime,
    **tender: int | None,
) -> Payment:  # fmt: skip
    """The payment row of a tender the shop applies at once."""
    assert order.id is not None
    payment = Payment(
        order_id=order.id,
        method=method.value,
        status=PaymentStatus.SUCCEEDED.value,
        amount=amount,
        currency=order.currency,
        created_at=now,
        settled_at=now,
        **tender,
    )
    session.add(payment)
    await session.flush()
    return payment


async def _gift_card(
    session: AsyncSession, order: Order, request: PaymentRequest, now: datetime
) -> Payment:
    if not request.gift_card_code:
        raise fail(ErrorCode.REQUIRED, "give the gift card's code", "gift_card_code")
    card = await cards.lock_by_code(session, request.gift_card_code)
    if card is None or card.currency != order.currency:
        raise fail(ErrorCode.NOT_FOUND, "no gift card has this code", "gift_card_code")
    if not card.usable_at(now):
        raise fail(ErrorCode.INVALID_STATE, "this gift card has expired", "gift_card_code")
    if card.balance == 0:
        raise fail(
            ErrorCode.AMOUNT_EXCEEDED, "this gift card has no balance left", "gift_card_code"
        )
    amount = request.amount or min(order.amount_due, card.balance)
    if amount > card.balance:
        raise _exceeded(amount, card.balance, order.currency, "the gift card holds")
    payment = await _own_tender(
        session, order, PaymentMethod.GIFT_CARD, amount, now, gift_card_id=card.id
    )
    await cards.spend(session, card, amount, Source(order.id, payment.id), now)
    return payment


async def _points(
    session: AsyncSession,
    viewer: Viewer | None,
    order: Order,
    amount: int | None,
    rates: PointsRates,
    now: datetime,
) -> Payment:
    if order.user_id is None or viewer is None or viewer.user_id != order.user_id:
        raise fail(
            ErrorCode.INVALID,
            "only the customer who placed the order pays with their points",
            "method",
        )
    balance = await points.lock_balance(session, order.user_id)
    worth = rates.value_of(balance)
    if worth == 0:
        raise fail(ErrorCode.AMOUNT_EXCEEDED, "you have no points to pay with", "method")
    amount = amount or min(order.amount_due, worth)
    if amount > worth:
        raise _exceeded(amount, worth, order.currency, "your points are worth")
    spent = rates.cost_of(amount)
    payment = await _own_tender(session, order, PaymentMethod.POINTS, amount, now, points=spent)
    await points.spend(session, order.user_id, spent, Source(order.id, payment.id), now)
    return payment
