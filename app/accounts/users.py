"""Users: sign-in, staff accounts and the cached identity used on every request."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.accounts.passwords import HashingSlots, hash_password, verify_password
from app.accounts.permissions import Permission, Viewer
from app.accounts.tokens import TokenError, read_access_token
from app.cache import Cache
from app.database import Database, after_commit, flush_unique
from app.errors import DomainError, ErrorCode, Problems, fail, field_label

_PERMISSION_NAMES: frozenset[str] = frozenset(Permission)
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
        "token_version": user.token_version,
    }


async def _cached_info(db: Database, cache: Cache, user_id: int) -> dict[str, Any] | None:
    async def load() -> dict[str, Any] | None:
        async with db.session() as session:
            user = await session.get(User, user_id)
        return _user_info(user) if user is not None else None

    return await cache.get_or_load(user_family(user_id), "info", load)


async def load_viewer(db: Database, cache: Cache, user_id: int) -> Viewer | None:
    """The identity of an active user, from the cache (loaded from the database on a miss)."""
    info = await _cached_info(db, cache, user_id)
    return _viewer(info) if info is not None else None


async def authenticate_token(
    db: Database, cache: Cache, secret: str, token: str, now: datetime
) -> Viewer:
    """The active user an access token speaks for; TokenError when it is invalid,
    expired or revoked.

    Revoked means issued under an older token version than the user's (see
    `revoke_access_tokens`). The version comes with the cached identity, so a
    valid token costs no more than loading the viewer did.
    """
    claims = read_access_token(secret, token, now)
    info = await _cached_info(db, cache, claims.user_id)
    if (
        info is None
        # Entries cached before versions existed have none; any bump since made them
        # unreachable.
        or claims.version < info.get("token_version", 0)
        or (viewer := _viewer(info)) is None
    ):
        raise TokenError("the access token has been revoked; refresh it or sign in again")
    return viewer


async def revoke_access_tokens(session: AsyncSession, user_id: int) -> None:
    """Every access token issued to the user so far stops working, on every device.

    Call inside the write transaction that ends the session (sign-out, a reused
    refresh token; deactivation or a password change should they come), then
    `cache.invalidate(user_family(user_id))` after its commit. Other devices get a
    401 on their next request and refresh with their refresh token, which still
    works: the new access token carries the new version.
    """
    await session.exec(
        update(User)
        .where(col(User.id) == user_id)
        .values(token_version=col(User.token_version) + 1)
    )


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


async def authenticate(
    db: Database, email: str, password: str, hashing: HashingSlots | None = None
) -> User:
    """The active user with these credentials; INVALID_CREDENTIALS otherwise.

    Unknown emails still verify a (dummy) hash, so both failures take as long.
    """
    async with db.session() as session:
        user = (
            await session.exec(select(User).where(User.email == normalize_email(email)))
        ).first()
    ok = await verify_password(user.password_hash if user else None, password, hashing)
    if user is None or not ok or not user.is_active:
        raise fail(ErrorCode.INVALID_CREDENTIALS, "the email or password is incorrect")
    return user


MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
_PASSWORD_CLASSES = (str.islower, str.isupper, str.isdigit)


def password_problems(password: str, problems: Problems) -> None:
    """The password policy, the same for customers and staff."""
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.add(
            ErrorCode.WEAK_PASSWORD,
            f"the password needs at least {MIN_PASSWORD_LENGTH} characters",
            "password",
        )
    elif len(password) > MAX_PASSWORD_LENGTH:
        problems.add(
            ErrorCode.INVALID,
            f"the password may have at most {MAX_PASSWORD_LENGTH} characters",
            "password",
        )
    elif len({_character_class(c) for c in password}) < 2:
        problems.add(
            ErrorCode.WEAK_PASSWORD,
            "the password must mix at least two kinds of characters "
            "(lower case, upper case, digits, symbols or spaces)",
            "password",
        )


def _character_class(char: str) -> int:
    for index, test in enumerate(_PASSWORD_CLASSES):
        if test(char):
            return index
    return len(_PASSWORD_CLASSES)  # anything else: symbols, spaces, other scripts


def _email_problems(email: str, problems: Problems) -> None:
    if not is_valid_email(email):
        problems.add(ErrorCode.INVALID, "enter a valid email address", "email")


def _name_problems(first_name: str, last_name: str, problems: Problems) -> None:
    for value, name in ((first_name, "first_name"), (last_name, "last_name")):
        if len(value) > 100:
            problems.add(
                ErrorCode.INVALID, f"{field_label([name])} may have at most 100 characters", name
            )


def _taken(email: str, *field: str) -> DomainError:
    return fail(ErrorCode.EMAIL_TAKEN, f"an account with {email} already exists", *field)


@dataclass(frozen=True, slots=True)
class NewCustomer:
    email: str
    password_hash: str
    first_name: str
    last_name: str


async def prepare_customer(
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    hashing: HashingSlots | None = None,
) -> NewCustomer:
    """Checks a sign-up and hashes its password, before any transaction is open."""
    email = normalize_email(email)
    first_name, last_name = first_name.strip(), last_name.strip()
    problems = Problems()
    _email_problems(email, problems)
    password_problems(password, problems)
    _name_problems(first_name, last_name, problems)
    problems.raise_if_any()
    return NewCustomer(email, await hash_password(password, hashing), first_name, last_name)


async def add_customer(session: AsyncSession, new: NewCustomer, now: datetime) -> User:
    """Insert the customer inside the caller's transaction (which also starts its session)."""
    taken = _taken(new.email, "input", "email")
    if (await session.exec(select(User.id).where(User.email == new.email))).first() is not None:
        raise taken
    user = User(
        email=new.email,
        password_hash=new.password_hash,
        first_name=new.first_name,
        last_name=new.last_name,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    # Two sign-ups racing for one email: the unique index decides, the loser gets EMAIL_TAKEN.
    await flush_unique(session, conflict=taken)
    return user


async def update_profile(
    session: AsyncSession, cache: Cache, user_id: int, first_name: str | None,
    last_name: str | None, now: datetime,
) -> User:  # fmt: skip
    problems = Problems()
    _name_problems((first_name or "").strip(), (last_name or "").strip(), problems)
    problems.raise_if_any()
    user = await session.get(User, user_id)
    if user is None:
        raise fail(ErrorCode.NOT_FOUND, "the account no longer exists")
    if first_name is not None:
        user.first_name = first_name.strip()
    if last_name is not None:
        user.last_name = last_name.strip()
    user.updated_at = now
    await session.flush()
    after_commit(session, lambda: cache.invalidate(user_family(user_id)))
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
    problems = Problems()
    _email_problems(email, problems)
    password_problems(password, problems)
    problems.raise_if_any()
    password_hash = await hash_password(password)
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
        await flush_unique(session, conflict=_taken(email, "email"))
    assert user.id is not None
    await cache.invalidate(user_family(user.id))
    return user


async def lock_user(session: AsyncSession, user_id: int) -> None:
    """Serialises writes that keep a per-customer rule (one default address, one active
    cart): a PostgreSQL row lock on the user; SQLite writers are serialised already."""
    await session.exec(select(User.id).where(User.id == user_id).with_for_update())
