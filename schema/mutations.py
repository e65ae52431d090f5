"""The one wrapper every mutation goes through: permission, then userErrors.

`@handles_errors(Permission.X)` declares the staff permission a back-office
mutation needs; `@handles_errors()` is for customer mutations. Expected
failures (`DomainError`) become the payload's `userErrors`, with nothing
changed; anything else propagates and is masked as an internal error.

A resolver whose transaction the database rolled back as a deadlock victim
(or a serialisation failure) is run again from the start (`retrying`). So a
resolver writes only inside transactions it opens; one that commits a step
before another can fail keeps that step's result with `Context.once`.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from app.accounts.permissions import Permission, require_permission
from app.database import retrying
from app.errors import DomainError
from schema.common import UserError

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def handles_errors(permission: Permission | None = None) -> Callable[[F], F]:
    def decorate(resolver: F) -> F:
        payload_type: list[type] = []

        @functools.wraps(resolver)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            info = kwargs["info"]
            try:
                if permission is not None:
                    require_permission(await info.context.viewer(), permission)
                return await retrying(lambda: resolver(*args, **kwargs), info.field_name)
            except DomainError as error:
                if not payload_type:
                    payload_type.append(typing.get_type_hints(resolver)["return"])
                return payload_type[0](user_errors=UserError.from_domain(error))

        return typing.cast(F, wrapper)

    return decorate
