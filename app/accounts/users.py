"""Users: sign-in, staff accounts and the cached identity used on every request."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from app.accounts.models import User
from app.accounts.passwords import hash_password, verify_password
from app.accounts.permissions import Permission, Viewer
from app.cache import Cache
from app.database import Database
from app.errors import ErrorCode, fail

_PERMISSION_NAMES = frozenset(p.value for p in Permission)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def is_valid_email(email: str) -> bool:
    return len(email) <= 320 and bool(_EMAIL.match(email))


def user_family(user_id: int) -> str:
    return f"user:{user_id}"


def _user_info(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_staff": user.is_staff,
        "is_active": user.is_active,
        "permissions": sorted(user.permissions),
    }


async def load_viewer(db: Database, cache: Cache, user_id: int) -> Viewer | None:
    """The identity of an active user, from the cache (loaded from the database on a miss)."""

    async def load() -> dict[str, Any] | None:
        async with db.session() as session:
            user = await session.get(User, user_id)
        return _user_info(user) if user is not None else None

    info = await cache.get_or_load(user_family(user_id), "info", load)
    return _viewer(info) if info is not None else None


def viewer_of(user: User) -> Viewer | None:
    return _viewer(_user_info(user))


def _viewer(info: dict[str, Any]) -> Viewer | None:
    if not info["is_active"]:
        return None
    return Viewer(
        user_id=info["id"],
        email=info["email"],
        first_name=info["first_name"],
        last_name=info["last_name"],
        is_staff=info["is_staff"],
        permissions=frozenset(Permission(p) for p in info["permissions"] if p in _PERMISSION_NAMES),
    )


async def authenticate(db: Database, email: str, password: str) -> User:
    """The active user with these credentials; INVALID_CREDENTIALS otherwise.

    Unknown emails still verify a (dummy) hash, so both failures take as long.
    """
    async with db.session() as session:
        user = (
            await session.exec(select(User).where(User.email == normalize_email(email)))
        ).first()
    ok = await verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        raise fail(ErrorCode.INVALID_CREDENTIALS, "the email or password is incorrect")
    return user


async def create_staff(
    db: Database,
    cache: Cache,
    email: str,
    password: str,
    permissions: frozenset[Permission],
    now: datetime,
) -> User:
    email = normalize_email(email)
    if not is_valid_email(email):
        raise fail(ErrorCode.INVALID, f"{email!r} is not a valid email address", "email")
    if len(password) < 10:
        raise fail(ErrorCode.WEAK_PASSWORD, "the password needs at least 10 characters", "password")
    password_hash = await hash_password(password)
    try:
        async with db.transaction() as session:
            user = User(
                email=email,
                password_hash=password_hash,
                is_staff=True,
                permissions=sorted(p.value for p in permissions),
                created_at=now,
                updated_at=now,
            )
            session.add(user)
    except IntegrityError:
        raise fail(
            ErrorCode.EMAIL_TAKEN, f"an account with {email} already exists", "email"
        ) from None
    assert user.id is not None
    await cache.invalidate(user_family(user.id))
    return user
