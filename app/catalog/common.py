"""Rules shared by catalog writes: slugs, names and unique values."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import ErrorCode, fail

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_RULE = "slug must be lower-case letters and digits separated by single hyphens"


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:200]


def is_valid_slug(slug: str) -> bool:
    return 0 < len(slug) <= 200 and bool(_SLUG.match(slug))


async def require_unique(
    session: AsyncSession, column: Any, value: str, own_id: int | None, *field: str
) -> None:
    """ALREADY_EXISTS when another row already holds `value` in `column`."""
    model = column.class_
    taken = (await session.exec(select(model.id).where(column == value))).first()
    if taken is not None and taken != own_id:
        raise fail(ErrorCode.ALREADY_EXISTS, f"{value!r} is already used", *field)
