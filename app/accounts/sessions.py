"""Sign-in sessions: token pairs, refresh-token rotation and reuse detection.

A refresh token is opaque; only its SHA-256 is stored. Each refresh marks the
presented token used and issues a new one in the same family. Presenting a used
token again means it was copied: the whole family is revoked, so neither the
thief nor the owner can go on with it.

Signing out, and a reused refresh token, also end the user's access tokens at
once (`users.revoke_access_tokens`), on every device: the others get a 401 on
their next request and refresh with their own refresh token, which still works.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import RefreshToken, User
from app.accounts.tokens import issue_access_token
from app.accounts.users import revoke_access_tokens, user_family
from app.cache import Cache
from app.database import after_commit
from app.errors import ErrorCode, Problem, RecordedFailure, fail
from app.settings import Settings


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    access_token_expires_at: datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start_session(
    session: AsyncSession,
    settings: Settings,
    user: User,
    now: datetime,
    family_id: str | None = None,
) -> TokenPair:
    """Issue a token pair; call inside the caller's write transaction."""
    assert user.id is not None
    refresh = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id or secrets.token_hex(16),
            token_hash=_hash(refresh),
            expires_at=now + timedelta(seconds=settings.refresh_token_ttl_seconds),
            created_at=now,
        )
    )
    access = issue_access_token(
        settings.secret_key, user.id, user.token_version, now, settings.access_token_ttl_seconds
    )
    return TokenPair(access.token, refresh, access.expires_at)


_INVALID = "the refresh token is invalid, expired or revoked"


async def refresh_session(
    session: AsyncSession, cache: Cache, settings: Settings, token: str, now: datetime
) -> TokenPair:
    """Rotate `token`; a reused token revokes its whole family and the user's access
    tokens, and that revocation stands although the refresh fails (`RecordedFailure`)."""
    row = (
        await session.exec(select(RefreshToken).where(RefreshToken.token_hash == _hash(token)))
    ).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise fail(ErrorCode.UNAUTHENTICATED, _INVALID, "refresh_token")
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise fail(ErrorCode.UNAUTHENTICATED, _INVALID, "refresh_token")
    # Mark used only if nobody did first: of two concurrent refreshes one wins.
    claimed = await session.exec(
        update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))  # type: ignore[union-attr]
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        await _end_family(session, cache, row, now)
        raise RecordedFailure([Problem(ErrorCode.UNAUTHENTICATED, _INVALID, ("refresh_token",))])
    return await start_session(session, settings, user, now, family_id=row.family_id)


async def revoke_session(session: AsyncSession, cache: Cache, token: str, now: datetime) -> None:
    """Sign out: the family of `token` can no longer be refreshed, and the user's access
    tokens stop working at once. Unknown tokens are ignored."""
    row = (
        await session.exec(select(RefreshToken).where(RefreshToken.token_hash == _hash(token)))
    ).first()
    if row is not None:
        await _end_family(session, cache, row, now)


async def _end_family(
    session: AsyncSession, cache: Cache, row: RefreshToken, now: datetime
) -> None:
    """Revokes the family of `row`, and with it the user's access tokens, unless it was
    revoked already (so that replaying a dead token cannot sign the user out again and
    again)."""
    revoked = await session.exec(
        update(RefreshToken)
        .where(RefreshToken.family_id == row.family_id, RefreshToken.revoked_at.is_(None))  # type: ignore[union-attr]
        .values(revoked_at=now)
    )
    if revoked.rowcount == 0:
        return
    await revoke_access_tokens(session, row.user_id)
    after_commit(session, lambda: cache.invalidate(user_family(row.user_id)))
