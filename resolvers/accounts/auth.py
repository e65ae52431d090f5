"""Sign-in and token lifecycle."""

from __future__ import annotations

from app.accounts import sessions
from app.accounts.permissions import Viewer
from app.accounts.sessions import TokenPair
from app.accounts.users import authenticate, viewer_of
from resolvers.context import Context


async def sign_in(ctx: Context, email: str, password: str) -> tuple[Viewer, TokenPair]:
    user = await authenticate(ctx.db, email, password)
    viewer = viewer_of(user)
    assert user.id is not None
    assert viewer is not None
    async with ctx.db.transaction() as session:
        pair = await sessions.start_session(session, ctx.settings, user.id, ctx.now())
    return viewer, pair


async def refresh(ctx: Context, refresh_token: str) -> TokenPair:
    return await sessions.refresh_session(ctx.db, ctx.settings, refresh_token, ctx.now())


async def revoke(ctx: Context, refresh_token: str) -> None:
    await sessions.revoke_session(ctx.db, refresh_token, ctx.now())
