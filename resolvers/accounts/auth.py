"""Sign-up, sign-in (throttled) and the token lifecycle."""

from __future__ import annotations

from app.accounts import sessions, users
from app.accounts.models import User
from app.accounts.permissions import Viewer
from app.accounts.sessions import TokenPair
from app.errors import DomainError, ErrorCode, fail
from resolvers.context import Context


def _viewer(user: User) -> Viewer:
    viewer = users.viewer_of(user)
    assert viewer is not None
    return viewer


async def sign_in(ctx: Context, email: str, password: str) -> tuple[Viewer, TokenPair]:
    await ctx.account_limits.admit_sign_in(ctx.client_address, ctx.now())
    limiter = ctx.sign_in_limiter
    email_key = limiter.key("email", users.normalize_email(email))
    keys = (email_key, limiter.key("client", ctx.client_address))
    throttled = await limiter.check(keys, ctx.now())
    if throttled is not None:
        minutes = -(-throttled.retry_after_seconds // 60)
        raise fail(
            ErrorCode.TOO_MANY_REQUESTS,
            f"too many failed sign-ins; try again in {minutes} minute{'s' if minutes > 1 else ''}",
        )
    try:
        user = await users.authenticate(ctx.db, email, password, ctx.account_limits.hashing)
    except DomainError as error:
        # Only wrong credentials count: a server too busy to check them is no failure.
        if error.code is ErrorCode.INVALID_CREDENTIALS:
            await limiter.failed(keys, ctx.now())
        raise
    await limiter.succeeded(email_key)
    pair = await sessions.start_session(await ctx.session(), ctx.settings, user, ctx.now())
    return _viewer(user), pair


async def register(
    ctx: Context, email: str, password: str, first_name: str, last_name: str
) -> tuple[Viewer, TokenPair]:
    limits = ctx.account_limits
    await limits.admit_sign_up(ctx.client_address, ctx.now())
    new = await users.prepare_customer(email, password, first_name, last_name, limits.hashing)
    session = await ctx.session()
    user = await users.add_customer(session, new, ctx.now())
    pair = await sessions.start_session(session, ctx.settings, user, ctx.now())
    return _viewer(user), pair


async def update_profile(ctx: Context, first_name: str | None, last_name: str | None) -> Viewer:
    viewer = await ctx.signed_in()
    user = await users.update_profile(
        await ctx.session(), ctx.cache, viewer.user_id, first_name, last_name, ctx.now()
    )
    ctx.forget_viewer()
    return _viewer(user)


async def refresh(ctx: Context, refresh_token: str) -> TokenPair:
    return await sessions.refresh_session(
        await ctx.session(), ctx.cache, ctx.settings, refresh_token, ctx.now()
    )


async def revoke(ctx: Context, refresh_token: str) -> None:
    await sessions.revoke_session(await ctx.session(), ctx.cache, refresh_token, ctx.now())
