"""Payments, gift cards, loyalty points and the gateway's notifications: reads with the
visibility of the order they belong to, and the mutations' service calls."""

from __future__ import annotations

from collections.abc import Sequence

from app.accounts.permissions import Permission, Viewer, can_see
from app.errors import DomainError, ErrorCode
from app.giftcards import cards
from app.giftcards.models import GiftCard
from app.loyalty import points
from app.loyalty.models import PointsEntry
from app.loyalty.points import PointsRates
from app.orders import access
from app.paging import Page
from app.payments import inbox, pay
from app.payments.models import (
    NotificationState,
    Payment,
    PaymentNotification,
    Refund,
    RefundAllocation,
    RefundLine,
)
from resolvers.context import Context
from resolvers.guesses import guarded
from resolvers.orders import order_key, visible_orders

SEE_NOTIFICATIONS = access.SEE_ORDERS


async def start_payment(ctx: Context, order_id: str, request: pay.PaymentRequest) -> pay.Started:
    key = order_key(order_id, "order_id")
    viewer = await ctx.viewer()
    rates = PointsRates.from_settings(ctx.settings)

    async def attempt() -> pay.Started:
        return await pay.pay(
            await ctx.session(), viewer, key, request, ctx.refunder(), rates, ctx.now()
        )

    if request.gift_card_code is None:
        return await attempt()
    return await guarded(ctx, "gift-card", attempt, _wrong_code)


def _wrong_code(error: DomainError) -> bool:
    """Only a code that names no card counts as a guess (not an unknown order)."""
    return error.code is ErrorCode.NOT_FOUND and error.problems[0].field == ("gift_card_code",)


async def payments(ctx: Context, order_id: int) -> list[Payment]:
    return await ctx.loaders.payments_by_order.load(order_id)


async def refunds(ctx: Context, order_id: int) -> list[Refund]:
    return await ctx.loaders.refunds_by_order.load(order_id)


async def allocations(ctx: Context, refund_id: int) -> list[RefundAllocation]:
    return await ctx.loaders.allocations_by_refund.load(refund_id)


async def refund_lines(ctx: Context, refund_id: int) -> list[RefundLine]:
    return await ctx.loaders.lines_by_refund.load(refund_id)


async def payments_by_ids(ctx: Context, keys: Sequence[int]) -> list[Payment | None]:
    """Payments to whoever sees their order: one batch each for them and their orders."""
    found = await ctx.loaders.payment.load_many(keys)
    visible = await visible_orders(ctx, [p.order_id for p in found if p is not None])
    return [p if p is not None and p.order_id in visible else None for p in found]


async def refunds_by_ids(ctx: Context, keys: Sequence[int]) -> list[Refund | None]:
    found = await ctx.loaders.refund.load_many(keys)
    visible = await visible_orders(ctx, [r.order_id for r in found if r is not None])
    return [r if r is not None and r.order_id in visible else None for r in found]


async def create_gift_card(ctx: Context, data: cards.GiftCardData) -> GiftCard:
    viewer = await ctx.signed_in()
    return await cards.issue(await ctx.session(), data, viewer.user_id, ctx.now())


async def gift_cards_by_ids(ctx: Context, keys: Sequence[int]) -> list[GiftCard | None]:
    if not await ctx.can(Permission.MANAGE_GIFT_CARDS):
        return [None] * len(keys)
    return await ctx.loaders.gift_card.load_many(keys)


async def notifications(
    ctx: Context, state: NotificationState | None, first: int, after: str | None
) -> Page[PaymentNotification]:
    return await inbox.page(ctx.db, state, first, after)


async def notifications_by_ids(
    ctx: Context, keys: Sequence[int]
) -> list[PaymentNotification | None]:
    if not await ctx.can(SEE_NOTIFICATIONS):
        return [None] * len(keys)
    return await ctx.loaders.payment_notification.load_many(keys)


async def replay(ctx: Context, notification_id: int) -> PaymentNotification:
    """Acts again on a notification that failed (or was refused or ignored)."""
    processed = await inbox.process(await ctx.session(), notification_id, ctx.refunder(), ctx.now())
    return processed.notification


async def points_balance(ctx: Context, user_id: int) -> int | None:
    """A customer's points, for them and for staff who manage customers."""
    if not can_see(await ctx.viewer(), user_id, Permission.MANAGE_CUSTOMERS):
        return None
    return await ctx.loaders.points_balance.load(user_id)


async def points_ledger(
    ctx: Context, user_id: int, first: int, after: str | None
) -> Page[PointsEntry] | None:
    viewer: Viewer | None = await ctx.viewer()
    if not can_see(viewer, user_id, Permission.MANAGE_CUSTOMERS):
        return None
    return await points.ledger(ctx.db, user_id, first, after)
