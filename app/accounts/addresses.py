"""A customer's address book: validation, the single default, ownership."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import Address
from app.accounts.permissions import Viewer, require_owner
from app.accounts.users import lock_user
from app.countries import normalize_country
from app.database import Database
from app.errors import ErrorCode, Problems, fail, field_label

MAX_ADDRESSES = 50
_PHONE = re.compile(r"^\+?[0-9 ()./-]{4,32}$")
_LIMITS = {
    "first_name": 100,
    "last_name": 100,
    "line1": 200,
    "line2": 200,
    "city": 100,
    "region": 100,
    "postal_code": 20,
    "phone": 32,
}
_REQUIRED = ("first_name", "last_name", "line1", "city", "country")


@dataclass(frozen=True, slots=True)
class AddressData:
    first_name: str
    last_name: str
    line1: str
    city: str
    country: str
    line2: str = ""
    region: str = ""
    postal_code: str = ""
    phone: str = ""


def clean_address(data: AddressData, *field: str) -> AddressData:
    """Trimmed, with the country code upper-cased; every problem reported at once."""
    values = {f.name: getattr(data, f.name).strip() for f in fields(AddressData)}
    problems = Problems()
    for name in _REQUIRED:
        if not values[name]:
            problems.add(ErrorCode.REQUIRED, f"{field_label([name])} is required", *field, name)
    for name, limit in _LIMITS.items():
        if len(values[name]) > limit:
            problems.add(
                ErrorCode.INVALID,
                f"{field_label([name])} may have at most {limit} characters",
                *field,
                name,
            )
    if values["country"]:
        country = normalize_country(values["country"])
        if country is None:
            problems.add(
                ErrorCode.INVALID,
                f"{values['country']!r} is not an ISO 3166-1 alpha-2 country code (e.g. US, DE)",
                *field,
                "country",
            )
        else:
            values["country"] = country
    if values["phone"] and not _PHONE.match(values["phone"]):
        problems.add(
            ErrorCode.INVALID, "phone may hold digits, spaces, + ( ) - . /", *field, "phone"
        )
    problems.raise_if_any()
    return AddressData(**values)


async def create_address(
    session: AsyncSession, viewer: Viewer, data: AddressData, set_default: bool, now: datetime
) -> Address:
    data = clean_address(data, "input")
    await lock_user(session, viewer.user_id)
    count = (
        await session.exec(
            select(func.count()).select_from(Address).where(Address.user_id == viewer.user_id)
        )
    ).one()
    if count >= MAX_ADDRESSES:
        raise fail(ErrorCode.INVALID, f"an account keeps at most {MAX_ADDRESSES} addresses")
    make_default = set_default or count == 0
    if make_default:
        await _clear_default(session, viewer.user_id)
    address = Address(
        user_id=viewer.user_id, is_default=make_default, created_at=now, **address_fields(data)
    )
    session.add(address)
    await session.flush()
    return address


async def delete_address(session: AsyncSession, viewer: Viewer, address_id: int) -> None:
    """Deletes the viewer's address; if it was the default, the newest remaining one is."""
    await lock_user(session, viewer.user_id)
    address = await session.get(Address, address_id)
    require_owner(viewer, address.user_id if address else None, "address", "id")
    assert address is not None
    await session.delete(address)
    await session.flush()
    if address.is_default:
        newest = (
            await session.exec(
                select(Address)
                .where(Address.user_id == viewer.user_id)
                .order_by(col(Address.created_at).desc(), col(Address.id).desc())
                .limit(1)
            )
        ).first()
        if newest is not None:
            newest.is_default = True
            await session.flush()


async def addresses_by_user(db: Database, user_ids: Sequence[int]) -> list[list[Address]]:
    """Loader batch: each user's addresses, the default first, then newest first."""
    async with db.session() as session:
        rows = (
            await session.exec(
                select(Address)
                .where(col(Address.user_id).in_(user_ids))
                .order_by(
                    col(Address.is_default).desc(),
                    col(Address.created_at).desc(),
                    col(Address.id).desc(),
                )
            )
        ).all()
    grouped: dict[int, list[Address]] = {user_id: [] for user_id in user_ids}
    for row in rows:
        grouped[row.user_id].append(row)
    return [grouped[user_id] for user_id in user_ids]


async def _clear_default(session: AsyncSession, user_id: int) -> None:
    await session.exec(
        update(Address)
        .where(col(Address.user_id) == user_id, col(Address.is_default).is_(True))
        .values(is_default=False)
    )


def address_fields(data: AddressData) -> dict[str, str]:
    return {f.name: getattr(data, f.name) for f in fields(AddressData)}
