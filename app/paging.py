"""Keyset pagination for lists newest first: a page of rows, a cursor per row, and
whether more follow.

A cursor holds the sort key of its row (a time and the id, or the id alone), so
the next page starts strictly after it: rows added meanwhile neither shift a
page nor appear twice. Cursors are tied to one list by name (`ids.encode_cursor`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, bindparam, tuple_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import ErrorCode, fail
from app.ids import InvalidCursor, decode_cursor, encode_cursor

T = TypeVar("T")

MAX_PAGE_SIZE = 100


def check_page_size(first: int) -> None:
    """INVALID (at `first`) for a page size out of bounds: every list is capped."""
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise fail(ErrorCode.INVALID, f"first must be between 0 and {MAX_PAGE_SIZE}", "first")


@dataclass(slots=True)
class Page(Generic[T]):
    items: list[T] = field(default_factory=list)
    cursors: list[str] = field(default_factory=list)
    has_next_page: bool = False


@dataclass(frozen=True, slots=True)
class Keyset:
    """How one list is ordered (descending): its name in cursors, the key columns, and how
    each cursor value is read back."""

    name: str
    keys: Sequence[ColumnElement[Any]]
    parse: Sequence[Callable[[Any], Any]]

    def after(self, statement: Select[Any], cursor: str | None) -> Select[Any]:
        statement = statement.order_by(*(key.desc() for key in self.keys))
        if cursor is None:
            return statement
        raw = decode_cursor(cursor, self.name, len(self.keys))
        try:
            values = [parse(v) for parse, v in zip(self.parse, raw, strict=True)]
        except (TypeError, ValueError):
            raise InvalidCursor("after is not a valid cursor") from None
        bound = tuple_(
            *(bindparam(None, v, type_=k.type) for k, v in zip(self.keys, values, strict=True))
        )
        return statement.where(tuple_(*self.keys) < bound)

    def cursor(self, values: Sequence[Any]) -> str:
        return encode_cursor(self.name, [_jsonable(v) for v in values])


async def keyset_page(
    session: AsyncSession,
    statement: Select[Any],
    keyset: Keyset,
    first: int,
    after: str | None,
    key_of: Callable[[Any], Sequence[Any]],
) -> Page[Any]:
    """Up to `first` rows of `statement` after the cursor `after`, newest first; `key_of`
    gives a row's sort key. INVALID for a page size out of bounds or a cursor of another
    list."""
    check_page_size(first)
    try:
        statement = keyset.after(statement, after)
    except InvalidCursor as exc:
        raise fail(ErrorCode.INVALID, str(exc), "after") from None
    rows = (await session.exec(statement.limit(first + 1))).all()  # type: ignore[call-overload]
    page: Page[Any] = Page(has_next_page=len(rows) > first)
    for row in rows[:first]:
        page.items.append(row)
        page.cursors.append(keyset.cursor(key_of(row)))
    return page


def parse_time(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError("cursor time without zone")
    return parsed


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
