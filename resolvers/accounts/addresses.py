"""The signed-in customer's address book."""

from __future__ import annotations

from collections.abc import Sequence

from app.accounts import addresses
from app.accounts.models import Address
from app.accounts.permissions import Permission, can_see
from resolvers.context import Context


async def create(ctx: Context, data: addresses.AddressData, set_default: bool) -> Address:
    viewer = await ctx.signed_in()
    return await addresses.create_address(await ctx.session(), viewer, data, set_default, ctx.now())


async def delete(ctx: Context, key: int) -> None:
    viewer = await ctx.signed_in()
    await addresses.delete_address(await ctx.session(), viewer, key)


async def of_user(ctx: Context, user_id: int) -> list[Address]:
    """A user's addresses, for the user and for staff who manage customers; else none."""
    if not can_see(await ctx.viewer(), user_id, Permission.MANAGE_CUSTOMERS):
        return []
    return await ctx.loaders.addresses_by_user.load(user_id)


async def by_ids(ctx: Context, keys: Sequence[int]) -> list[Address | None]:
    """One batch; None for addresses unknown or not the viewer's to see."""
    viewer = await ctx.viewer()
    return [
        address
        if address is not None and can_see(viewer, address.user_id, Permission.MANAGE_CUSTOMERS)
        else None
        for address in await ctx.loaders.address.load_many(keys)
    ]
