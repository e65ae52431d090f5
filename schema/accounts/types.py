"""Account types: the signed-in user and token pairs."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.accounts.permissions import Viewer
from app.accounts.sessions import TokenPair
from app.ids import to_global_id
from schema.common import Node


@strawberry.type
class AuthToken:
    access_token: str = strawberry.field(description="Send as `Authorization: Bearer <token>`.")
    refresh_token: str = strawberry.field(
        description="Trade for a new pair with tokenRefresh; single use."
    )
    access_token_expires_at: datetime

    @classmethod
    def from_pair(cls, pair: TokenPair) -> AuthToken:
        return cls(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            access_token_expires_at=pair.access_token_expires_at,
        )


@strawberry.type
class User(Node):
    id: strawberry.ID
    email: str
    first_name: str
    last_name: str
    is_staff: bool
    permissions: list[str]

    @classmethod
    def from_viewer(cls, viewer: Viewer) -> User:
        return cls(
            id=strawberry.ID(to_global_id("User", viewer.user_id)),
            email=viewer.email,
            first_name=viewer.first_name,
            last_name=viewer.last_name,
            is_staff=viewer.is_staff,
            permissions=sorted(p.value for p in viewer.permissions),
        )
