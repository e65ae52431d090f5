"""The one boundary every mutation goes through: access, unit of work, userErrors.

Mutations are declared with `schema.access.mutation(access, ...)`, which wraps
their resolver in `mutation_boundary`:

- The caller's access is checked first (`schema.access.Access`).
- The mutation runs in one unit of work (`app.database.UnitOfWork`): resolvers
  and services write through `ctx.session()`, one transaction opened by the
  first write and committed here when the resolver returns, so the payload
  reads what was committed. Nothing else opens a write transaction.
- Expected failures (`DomainError`, a refused access included) roll it back
  and become the payload's `userErrors` (a `RecordedFailure` commits first:
  what it wrote must stand); anything else rolls it back and is masked as an
  internal error.
- A unit of work the database rolled back as a deadlock victim (or a
  serialisation failure) is run again from the start (`retrying`).
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from app.database import retrying
from app.errors import DomainError, RecordedFailure
from resolvers.context import Context
from schema.common import UserError

if TYPE_CHECKING:
    from schema.access import Access

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
T = TypeVar("T")


async def in_unit_of_work(ctx: Context, run: Callable[[], Awaitable[T]], what: str) -> T:
    """`run()` in one transaction: committed if it returns, rolled back if it raises."""

    async def attempt() -> T:
        unit = ctx.begin_unit_of_work()
        try:
            result = await run()
        except RecordedFailure:
            await unit.end()
            raise
        except BaseException as error:
            await unit.end(error)
            raise
        await unit.end()
        return result

    return await retrying(attempt, what)


def mutation_boundary(access: Access) -> Callable[[F], F]:
    """Wraps a mutation resolver: `access` checked, one unit of work, domain errors as
    the userErrors of the payload type the resolver is annotated to return."""

    def decorate(resolver: F) -> F:
        payload_type: list[type] = []

        @functools.wraps(resolver)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            info = kwargs["info"]
            try:
                await access.require(info.context)
                return await in_unit_of_work(
                    info.context, lambda: resolver(*args, **kwargs), info.field_name
                )
            except DomainError as error:
                if not payload_type:
                    payload_type.append(typing.get_type_hints(resolver)["return"])
                return payload_type[0](user_errors=UserError.from_domain(error))

        return typing.cast(F, wrapper)

    return decorate
