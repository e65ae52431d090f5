"""Sign-in and session mutations."""

from __future__ import annotations

import strawberry

from resolvers.accounts import auth
from schema.accounts.types import AuthToken, User
from schema.common import CtxInfo, UserError
from schema.mutations import handles_errors


@strawberry.type
class TokenCreatePayload:
    token: AuthToken | None = None
    user: User | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TokenRefreshPayload:
    token: AuthToken | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TokenRevokePayload:
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AccountMutation:
    @strawberry.mutation(description="Sign in: a short-lived access token and a refresh token.")
    @handles_errors()
    async def token_create(
        self, info: CtxInfo, email: str, password: str, cart_id: strawberry.ID | None = None
    ) -> TokenCreatePayload:
        viewer, pair = await auth.sign_in(info.context, email, password)
        return TokenCreatePayload(token=AuthToken.from_pair(pair), user=User.from_viewer(viewer))

    @strawberry.mutation(
        description="Trade a refresh token for a new pair; the old one stops working."
    )
    @handles_errors()
    async def token_refresh(self, info: CtxInfo, refresh_token: str) -> TokenRefreshPayload:
        pair = await auth.refresh(info.context, refresh_token)
        return TokenRefreshPayload(token=AuthToken.from_pair(pair))

    @strawberry.mutation(
        description="Sign out: the refresh token (and its successors) stop working."
    )
    @handles_errors()
    async def token_revoke(self, info: CtxInfo, refresh_token: str) -> TokenRevokePayload:
        await auth.revoke(info.context, refresh_token)
        return TokenRevokePayload()
