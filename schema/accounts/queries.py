"""The signed-in user."""

from __future__ import annotations

import strawberry

from schema.access import PUBLIC, query
from schema.accounts.types import User
from schema.common import CtxInfo


@strawberry.type
class AccountQuery:
    @query(PUBLIC, "The signed-in user; null when anonymous.")
    async def me(self, info: CtxInfo) -> User | None:
        viewer = await info.context.viewer()
        return User.from_viewer(viewer) if viewer else None
