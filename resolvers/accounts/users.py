"""Users as others see them: themselves, or staff who manage customers."""

from __future__ import annotations

from app.accounts.permissions import Permission, Viewer, can_see
from app.accounts.users import load_viewer
from resolvers.context import Context


async def by_id(ctx: Context, user_id: int) -> Viewer | None:
    """A user by id: None when unknown or not the viewer's to see."""
    if not can_see(await ctx.viewer(), user_id, Permission.MANAGE_CUSTOMERS):
        return None
    return await load_viewer(ctx.db, ctx.cache, user_id)
