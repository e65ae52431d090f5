"""Users as others see them: themselves, or staff who manage customers."""

from __future__ import annotations

from collections.abc import Sequence

from app.accounts.permissions import Permission, Viewer, can_see
from app.accounts.users import viewer_of
from resolvers.context import Context


async def by_ids(ctx: Context, user_ids: Sequence[int]) -> list[Viewer | None]:
    """One batch; None for users unknown, inactive or not the viewer's to see."""
    viewer = await ctx.viewer()
    visible = [key for key in user_ids if can_see(viewer, key, Permission.MANAGE_CUSTOMERS)]
    users = dict(zip(visible, await ctx.loaders.user.load_many(visible), strict=True))
    return [viewer_of(user) if (user := users.get(key)) is not None else None for key in user_ids]
