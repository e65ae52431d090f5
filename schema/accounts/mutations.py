"""Account mutations: sign-up, sign-in, tokens, profile and addresses."""

from __future__ import annotations

import strawberry

from app import ids
from resolvers.accounts import addresses, auth
from resolvers.cart import carts
from schema.access import PUBLIC, SIGNED_IN, mutation
from schema.accounts.types import (
    AccountRegisterInput,
    AccountUpdateInput,
    Address,
    AddressInput,
    AuthToken,
    User,
)
from schema.cart.types import Cart
from schema.common import CtxInfo, Payload, decode_id


@strawberry.type
class AccountRegisterPayload(Payload):
    user: User | None = None
    token: AuthToken | None = None


@strawberry.type
class AccountUpdatePayload(Payload):
    user: User | None = None


@strawberry.type
class TokenCreatePayload(Payload):
    token: AuthToken | None = None
    user: User | None = None
    cart: Cart | None = strawberry.field(
        default=None, description="The customer's cart, with the guest cart (cartId) merged in."
    )


@strawberry.type
class TokenRefreshPayload(Payload):
    token: AuthToken | None = None


@strawberry.type
class TokenRevokePayload(Payload):
    """Signed out: nothing to return but the userErrors."""


@strawberry.type
class AddressCreatePayload(Payload):
    address: Address | None = None


@strawberry.type
class AddressDeletePayload(Payload):
    deleted_id: strawberry.ID | None = None


@strawberry.type
class AccountMutation:
    @mutation(
        PUBLIC,
        "Create a customer account and sign it in. Attempts are limited per "
        "minute, per client address and in all: TOO_MANY_REQUESTS says when to try again.",
    )
    async def account_register(
        self, info: CtxInfo, input: AccountRegisterInput
    ) -> AccountRegisterPayload:
        viewer, pair = await auth.register(
            info.context, input.email, input.password, input.first_name or "", input.last_name or ""
        )
        return AccountRegisterPayload(
            user=User.from_viewer(viewer), token=AuthToken.from_pair(pair)
        )

    @mutation(SIGNED_IN, "Change the signed-in user's name.")
    async def account_update(
        self, info: CtxInfo, input: AccountUpdateInput
    ) -> AccountUpdatePayload:
        viewer = await auth.update_profile(info.context, input.first_name, input.last_name)
        return AccountUpdatePayload(user=User.from_viewer(viewer))

    @mutation(
        PUBLIC,
        "Sign in: a short-lived access token and a refresh token. Five failures "
        "for one email or one client address within 15 minutes pause further attempts; "
        "attempts are also limited per minute, per client address and in all.",
    )
    async def token_create(
        self, info: CtxInfo, email: str, password: str, cart_id: strawberry.ID | None = None
    ) -> TokenCreatePayload:
        # One unit of work: signed in and the guest cart merged, or neither.
        viewer, pair = await auth.sign_in(info.context, email, password)
        view = await carts.merge_at_sign_in(info.context, viewer, cart_id)
        return TokenCreatePayload(
            token=AuthToken.from_pair(pair),
            user=User.from_viewer(viewer),
            cart=Cart.from_view(view, info) if view else None,
        )

    @mutation(PUBLIC, "Trade a refresh token for a new pair; the old one stops working.")
    async def token_refresh(self, info: CtxInfo, refresh_token: str) -> TokenRefreshPayload:
        pair = await auth.refresh(info.context, refresh_token)
        return TokenRefreshPayload(token=AuthToken.from_pair(pair))

    @mutation(
        PUBLIC,
        "Sign out: the refresh token (and its successors) stop working, and so "
        "do the user's access tokens, at once and on every device (401). Other devices "
        "then get a new access token with their own refresh token.",
    )
    async def token_revoke(self, info: CtxInfo, refresh_token: str) -> TokenRevokePayload:
        await auth.revoke(info.context, refresh_token)
        return TokenRevokePayload()

    @mutation(SIGNED_IN, "Save an address; the first one, or one with setDefault, is the default.")
    async def address_create(
        self, info: CtxInfo, input: AddressInput, set_default: bool | None = False
    ) -> AddressCreatePayload:
        row = await addresses.create(info.context, input.to_data(), bool(set_default))
        return AddressCreatePayload(address=Address.from_model(row))

    @mutation(SIGNED_IN, "Delete one of the signed-in customer's addresses.")
    async def address_delete(self, info: CtxInfo, id: strawberry.ID) -> AddressDeletePayload:
        await addresses.delete(info.context, decode_id(id, ids.ADDRESS, "id"))
        return AddressDeletePayload(deleted_id=id)
