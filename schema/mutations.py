"""The one boundary every mutation goes through: permission, unit of work, userErrors.

`@handles_errors(Permission.X)` declares the staff permission a back-office
mutation needs; `@handles_errors()` is for customer mutations. Then:

- The mutation runs in one unit of work (`app.database.UnitOfWork`): resolvers
  and services write through `ctx.session()`, one transaction opened by the
  first write and committed here when the resolver returns, so the payload
  reads what was committed. Nothing else opens a write transaction.
- Expected failures (`DomainError`) roll it back and become the payload's
  `userErrors` (a `RecordedFailure` commits first: what it wrote must stand);
  anything else rolls it back and is masked as an internal error.
- A unit of work the database rolled back as a deadlock victim (or a
  serialisation failure) is run again from the start (`retrying`).
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from app.accounts.permissions import Permission, require_permission
from app.database import retrying
from app.errors import DomainError, RecordedFailure
from resolvers.context import Context
from schema.common import UserError

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


def handles_errors(permission: Permission | None = None) -> Callable[[F], F]:
    def decorate(resolver: F) -> F:
        payload_type: list[type] = []

        @functools.wraps(resolver)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            info = kwargs["info"]
            try:
                if permission is not None:
                    require_permission(await info.context.viewer(), permission)
                return await in_unit_of_work(
                    info.context, lambda: resolver(*args, **kwargs), info.field_name
                )
            except DomainError as error:
                if not payload_type:
                    payload_type.append(typing.get_type_hints(resolver)["return"])
                return payload_type[0](user_errors=UserError.from_domain(error))

        return typing.cast(F, wrapper)

    return decorate
