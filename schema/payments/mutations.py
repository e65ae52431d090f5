"""Paying for orders, issuing gift cards, and the gateway's notifications for staff."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from app import ids
from app.accounts.permissions import Permission
from app.errors import Problems
from app.giftcards.cards import GiftCardData
from app.money import parse_amount
from app.payments import models
from app.payments.pay import PaymentRequest
from resolvers import payments as resolve
from schema.access import PUBLIC, mutation, query, staff
from schema.common import CtxInfo, FirstArg, PageInfo, Payload, decode_id
from schema.orders.types import Order
from schema.payments.types import (
    GiftCard,
    NotificationState,
    Payment,
    PaymentMethod,
    PaymentNotification,
    PaymentNotificationConnection,
    PaymentNotificationEdge,
)


@strawberry.input
class GiftCardInput:
    initial_balance: Decimal
    code: str | None = strawberry.field(
        default=None,
        description="8 to 64 letters and digits (spaces and dashes ignored); generated when "
        "absent.",
    )
    expires_at: datetime | None = None

    def to_data(self, currency: str) -> GiftCardData:
        problems = Problems()
        balance = parse_amount(self.initial_balance, currency, problems, "input", "initial_balance")
        problems.raise_if_any()
        return GiftCardData(
            initial_balance=balance or 0,
            currency=currency,
            code=self.code,
            expires_at=self.expires_at,
        )


@strawberry.type
class PaymentCreatePayload(Payload):
    payment: Payment | None = None
    order: Order | None = None


@strawberry.type
class GiftCardPayload(Payload):
    gift_card: GiftCard | None = None


@strawberry.type
class PaymentNotificationPayload(Payload):
    notification: PaymentNotification | None = None


def _amount(value: Decimal | None, currency: str) -> int | None:
    problems = Problems()
    minor = parse_amount(value, currency, problems, "amount")
    problems.raise_if_any()
    return minor


@strawberry.type
class PaymentMutation:
    @mutation(
        PUBLIC,
        "Pay for an order, whole or in part: CARD starts a payment at the gateway (complete "
        "it with `clientSecret`; the gateway's webhook decides), GIFT_CARD and POINTS pay at "
        "once. `amount` defaults to what is due (for a gift card or points, as much of it as "
        "they cover); more than is due is AMOUNT_EXCEEDED. For whoever may see the order, and "
        "for a guest's order whoever was given its id.",
    )
    async def payment_create(
        self,
        info: CtxInfo,
        order_id: strawberry.ID,
        method: PaymentMethod,  # type: ignore[valid-type]
        amount: Decimal | None = None,
        gift_card_code: str | None = None,
    ) -> PaymentCreatePayload:
        ctx = info.context
        request = PaymentRequest(
            method=models.PaymentMethod(method),
            amount=_amount(amount, ctx.currency),
            gift_card_code=gift_card_code,
        )
        started = await resolve.start_payment(ctx, order_id, request)
        return PaymentCreatePayload(
            payment=Payment.from_model(started.payment, started.client_secret),
            order=Order.from_model(started.order),
        )

    @mutation(
        staff(Permission.MANAGE_GIFT_CARDS),
        "Issue a gift card holding `initialBalance` in the shop currency.",
    )
    async def gift_card_create(self, info: CtxInfo, input: GiftCardInput) -> GiftCardPayload:
        ctx = info.context
        card = await resolve.create_gift_card(ctx, input.to_data(ctx.currency))
        return GiftCardPayload(gift_card=GiftCard.from_model(card))

    @mutation(
        staff(Permission.MANAGE_ORDERS),
        "Act again on a notification from the payment gateway that failed (or was refused "
        "or ignored), once what made it fail is mended; one already processed stays as it is.",
    )
    async def payment_notification_replay(
        self, info: CtxInfo, id: strawberry.ID
    ) -> PaymentNotificationPayload:
        key = decode_id(id, ids.PAYMENT_NOTIFICATION, "id")
        row = await resolve.replay(info.context, key)
        return PaymentNotificationPayload(notification=PaymentNotification.from_model(row))


@strawberry.type
class PaymentQuery:
    @query(
        staff(Permission.MANAGE_ORDERS),
        "Notifications from the payment gateway as received, newest first.",
    )
    async def payment_notifications(
        self,
        info: CtxInfo,
        first: FirstArg,
        after: str | None = None,
        state: Annotated[
            NotificationState | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only those in this state."),
        ] = None,
    ) -> PaymentNotificationConnection:
        page = await resolve.notifications(
            info.context, models.NotificationState(state) if state else None, first, after
        )
        return PaymentNotificationConnection(
            edges=[
                PaymentNotificationEdge(cursor=cursor, node=PaymentNotification.from_model(row))
                for row, cursor in zip(page.items, page.cursors, strict=True)
            ],
            page_info=PageInfo.of(page),
        )
