"""Lookups by something a stranger could guess (an order number with an email, a gift card
code): failures are counted per client address, and too many are refused for a while,
with the same limiter (and limits) as failed sign-ins."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from app.errors import DomainError, ErrorCode, fail
from resolvers.context import Context

T = TypeVar("T")


def _not_found(error: DomainError) -> bool:
    return error.code is ErrorCode.NOT_FOUND


async def guarded(
    ctx: Context,
    what: str,
    attempt: Callable[[], Awaitable[T]],
    missed: Callable[[DomainError], bool] = _not_found,
) -> T:
    """`attempt()`, unless this client failed too often at `what` lately. A None found, or
    an error `missed` says is a miss (NOT_FOUND), counts as a failure."""
    limiter = ctx.sign_in_limiter
    keys = (limiter.key(f"{what}:client", ctx.client_address),)
    throttled = await limiter.check(keys, ctx.now())
    if throttled is not None:
        raise fail(
            ErrorCode.TOO_MANY_REQUESTS,
            f"too many failed attempts; try again in {throttled.retry_after_seconds} seconds",
        )
    try:
        found = await attempt()
    except DomainError as error:
        if missed(error):
            await limiter.failed(keys, ctx.now())
        raise
    if found is None:
        await limiter.failed(keys, ctx.now())
    return found
