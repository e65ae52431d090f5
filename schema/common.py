"""Types every domain uses: Node, Money, UserError, Payload, PageInfo."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from app.errors import DomainError, fail
from app.errors import ErrorCode as DomainErrorCode
from app.ids import IdKind
from app.money import to_decimal
from app.paging import Page
from app.unset import UNSET
from resolvers.context import Context

CtxInfo = Info[Context, None]

K = TypeVar("K")

ErrorCode = strawberry.enum(DomainErrorCode, name="ErrorCode", description="Stable error codes.")


@strawberry.interface(description="An object with a global id; `node(id:)` fetches any of them.")
class Node:
    id: strawberry.ID


def node_id(kind: IdKind[K], key: K) -> strawberry.ID:
    """The global id of an object: every type writes its `id` through its kind."""
    return strawberry.ID(kind.encode(key))


@strawberry.type(description="An exact amount of money.")
class Money:
    amount: Decimal
    currency: str

    @classmethod
    def of(cls, minor: int, currency: str) -> Money:
        return cls(amount=to_decimal(minor, currency), currency=currency)

    @classmethod
    def maybe(cls, minor: int | None, currency: str) -> Money | None:
        return None if minor is None else cls.of(minor, currency)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def wire_path(path: tuple[str, ...] | None) -> list[str] | None:
    """A domain path (`("lines", "0", "variant_id")`) as the contract names it
    (`["lines", "0", "variantId"]`): the one place where domain names become wire names."""
    return [_camel(part) for part in path] if path else None


@strawberry.type(description="An expected failure of a mutation; nothing was changed.")
class UserError:
    field: list[str] | None
    message: str
    code: ErrorCode  # type: ignore[valid-type]

    @classmethod
    def from_domain(cls, error: DomainError) -> list[UserError]:
        return [
            cls(field=wire_path(p.field), message=p.message, code=p.code) for p in error.problems
        ]


@strawberry.interface(
    description="What every mutation returns: its result, or the userErrors saying why "
    "nothing was changed."
)
class Payload:
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def of(cls, page: Page[Any]) -> PageInfo:
        """A forward-only page (`app.paging`)."""
        return cls(
            has_next_page=page.has_next_page,
            has_previous_page=False,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        )


FirstArg = Annotated[int, strawberry.argument(description="How many to return, at most 100.")]


def decode_id(value: str, kind: IdKind[K], *field: str) -> K:
    """The key of a global id of `kind`; NOT_FOUND (as for an unknown id) otherwise."""
    key = kind.decode(value)
    if key is None:
        raise fail(DomainErrorCode.NOT_FOUND, f"no {kind.name} with this id", *field)
    return key


def given(value: Any) -> Any:
    """Strawberry's UNSET (argument not sent) as the services' UNSET."""
    return UNSET if value is strawberry.UNSET else value


def _fields(selections: list[Selection]) -> list[SelectedField]:
    """The fields among `selections`, looking into fragments."""
    found: list[SelectedField] = []
    pending = list(selections)
    while pending:
        selection = pending.pop()
        if isinstance(selection, FragmentSpread | InlineFragment):
            pending.extend(selection.selections)
        else:
            found.append(selection)
    return found


def selected_under(info: CtxInfo, *path: str) -> set[str]:
    """Names of the fields the query selects at `path` below this field (through fragments)."""
    level = _fields(list(info.selected_fields))
    for name in path:
        level = [
            child for field in level for child in _fields(field.selections) if child.name == name
        ]
    return {child.name for field in level for child in _fields(field.selections)}
