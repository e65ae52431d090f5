"""Sign-in sessions: token pairs, refresh-token rotation and reuse detection.

A refresh token is opaque; only its SHA-256 is stored. Each refresh marks the
presented token used and issues a new one in the same family. Presenting a used
token again means it was copied: the whole family is revoked, so neither the
thief nor the owner can go on with it.
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
from app.database import Database
from app.errors import ErrorCode, fail
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
    user_id: int,
    now: datetime,
    family_id: str | None = None,
) -> TokenPair:
    """Issue a token pair; call inside the caller's write transaction."""
    refresh = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            user_id=user_id,
            family_id=family_id or secrets.token_hex(16),
            token_hash=_hash(refresh),
            expires_at=now + timedelta(seconds=settings.refresh_token_ttl_seconds),
            created_at=now,
        )
    )
    access = issue_access_token(
        settings.secret_key, user_id, now, settings.access_token_ttl_seconds
    )
    return TokenPair(access.token, refresh, access.expires_at)


_INVALID = "the refresh token is invalid, expired or revoked"


async def refresh_session(db: Database, settings: Settings, token: str, now: datetime) -> TokenPair:
    """Rotate `token`; a reused token revokes its whole family."""
    reused = False
    async with db.transaction() as session:
        row = (
            await session.exec(select(RefreshToken).where(RefreshToken.token_hash == _hash(token)))
        ).first()
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise fail(ErrorCode.UNAUTHENTICATED, _INVALID, "refreshToken")
        user = await session.get(User, row.user_id)
        if user is None or not user.is_active:
            raise fail(ErrorCode.UNAUTHENTICATED, _INVALID, "refreshToken")
        # Mark used only if nobody did first: of two concurrent refreshes one wins.
        claimed = await session.exec(
            update(RefreshToken)
            .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))  # type: ignore[union-attr]
            .values(used_at=now)
        )
        if claimed.rowcount != 1:
            reused = True
            await session.exec(
                update(RefreshToken)
                .where(RefreshToken.family_id == row.family_id, RefreshToken.revoked_at.is_(None))  # type: ignore[union-attr]
                .values(revoked_at=now)
            )
        else:
            pair = await start_session(session, settings, row.user_id, now, family_id=row.family_id)
    # Raised after the commit, so that the family stays revoked.
    if reused:
        raise fail(ErrorCode.UNAUTHENTICATED, _INVALID, "refreshToken")
    return pair


async def revoke_session(db: Database, token: str, now: datetime) -> None:
    """Log out: the family of `token` can no longer be refreshed. Unknown tokens are ignored."""
    async with db.transaction() as session:
        row = (
            await session.exec(select(RefreshToken).where(RefreshToken.token_hash == _hash(token)))
        ).first()
        if row is None:
            return
        await session.exec(
            update(RefreshToken)
            .where(RefreshToken.family_id == row.family_id, RefreshToken.revoked_at.is_(None))  # type: ignore[union-attr]
            .values(revoked_at=now)
        )
