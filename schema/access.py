"""Who may call each query and mutation: declared on the field, in one way.

Every root field is declared with `query(access, ...)`, `mutation(access, ...)` or
`subscription(access, ...)`,
`access` being `PUBLIC`, `SIGNED_IN` or `staff(Permission.X)`. The declaration

- checks the access before the resolver runs: a refused mutation answers with
  a userError (`schema.mutations.mutation_boundary`), a refused query with a
  GraphQL error carrying the code (PERMISSION_DENIED, UNAUTHENTICATED);
- writes the access into the field's description in the SDL, as Saleor's
  `PermissionsField` does ("Requires one of the following permissions: X.");
- keeps it in the field's metadata (`ACCESS`), where the tests find it.

Access to a field is not access to every object: a PUBLIC field still shows a
customer's cart or order to its owner only (see `resolvers`).
"""

from __future__ import annotations

import functools
import typing
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, TypeVar

import strawberry

from app.accounts.permissions import Permission, require_permission
from resolvers.context import Context
from schema.mutations import mutation_boundary

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
G = TypeVar("G", bound=Callable[..., AsyncGenerator[Any, None]])

# The key of a root field's `Access` in its Strawberry metadata.
ACCESS = "access"


@dataclass(frozen=True, slots=True)
class Access:
    """What a caller needs to use a root field, and the sentence that says so."""

    sentence: str
    permission: Permission | None = None
    signed_in: bool = False

    async def require(self, ctx: Context) -> None:
        """Raises PERMISSION_DENIED or UNAUTHENTICATED for a caller without this access."""
        if self.permission is not None:
            require_permission(await ctx.viewer(), self.permission)
        elif self.signed_in:
            await ctx.signed_in()

    @property
    def is_public(self) -> bool:
        return self.permission is None and not self.signed_in

    def describe(self, description: str | None) -> str:
        return f"{description} {self.sentence}" if description else self.sentence


PUBLIC = Access("No sign-in required.")
SIGNED_IN = Access("Requires a signed-in user.", signed_in=True)


def staff(permission: Permission) -> Access:
    return Access(
        f"Requires one of the following permissions: {permission.value}.", permission=permission
    )


def _checked(access: Access, resolver: F) -> F:
    @functools.wraps(resolver)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        await access.require(kwargs["info"].context)
        return await resolver(*args, **kwargs)

    return typing.cast(F, wrapper)


def query(access: Access, description: str | None = None) -> Callable[[F], Any]:
    """A query field open to callers with `access` (use as `@query(PUBLIC, "...")`)."""

    def declare(resolver: F) -> Any:
        return strawberry.field(
            resolver=resolver if access.is_public else _checked(access, resolver),
            description=access.describe(description),
            metadata={ACCESS: access},
        )

    return declare


def mutation(access: Access, description: str | None = None) -> Callable[[F], Any]:
    """A mutation open to callers with `access`, run inside `mutation_boundary`."""

    def declare(resolver: F) -> Any:
        return strawberry.mutation(
            resolver=mutation_boundary(access)(resolver),
            description=access.describe(description),
            metadata={ACCESS: access},
        )

    return declare


def _checked_stream(access: Access, resolver: G) -> G:
    @functools.wraps(resolver)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, None]:
        await access.require(kwargs["info"].context)
        async with aclosing(resolver(*args, **kwargs)) as stream:
            async for item in stream:
                yield item

    return typing.cast(G, wrapper)


def subscription(access: Access, description: str | None = None) -> Callable[[G], Any]:
    """A subscription open to callers with `access`; `resolver` is an async generator."""

    def declare(resolver: G) -> Any:
        return strawberry.subscription(
            resolver=resolver if access.is_public else _checked_stream(access, resolver),
            description=access.describe(description),
            metadata={ACCESS: access},
        )

    return declare
