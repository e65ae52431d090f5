"""The email outbox, for staff who manage orders."""

from __future__ import annotations

from collections.abc import Sequence

from app.accounts.permissions import Permission
from app.notifications import outbox
from app.notifications.models import EmailStatus, OutboxEmail
from app.paging import Page
from resolvers.context import Context

SEE_OUTBOX = Permission.MANAGE_ORDERS


async def page(
    ctx: Context, status: EmailStatus | None, first: int, after: str | None
) -> Page[OutboxEmail]:
    return await outbox.page(ctx.db, status, first, after)


async def by_ids(ctx: Context, keys: Sequence[int]) -> list[OutboxEmail | None]:
    if not await ctx.can(SEE_OUTBOX):
        return [None] * len(keys)
    return await ctx.loaders.outbox_email.load_many(keys)
