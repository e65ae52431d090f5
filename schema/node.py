"""`node(id:)`: any object by its global id, with the same visibility as its own field."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from app.accounts.permissions import SEE_INVENTORY
from app.ids import parse_global_id
from resolvers import orders as resolve_orders
from resolvers.accounts import addresses as resolve_addresses
from resolvers.accounts import users as resolve_users
from resolvers.catalog import products as resolve_products
from resolvers.context import Context
from schema.accounts.types import Address, User
from schema.catalog.types import Category, Product, ProductVariant, Warehouse
from schema.common import CtxInfo, Node
from schema.orders.types import Order


async def _product(ctx: Context, key: int) -> Node | None:
    row = await resolve_products.product_by_id(ctx, key)
    return Product.from_model(row, ctx.currency) if row else None


async def _variant(ctx: Context, key: int) -> Node | None:
    row = await resolve_products.variant_by_id(ctx, key)
    return ProductVariant.from_model(row, ctx.currency) if row else None


async def _category(ctx: Context, key: int) -> Node | None:
    tree = await ctx.category_tree()
    node = tree.get(key)
    return Category.from_node(node, tree) if node else None


async def _warehouse(ctx: Context, key: int) -> Node | None:
    if not await ctx.can(SEE_INVENTORY):
        return None
    row = await ctx.loaders.warehouse.load(key)
    return Warehouse.from_model(row) if row else None


async def _address(ctx: Context, key: int) -> Node | None:
    row = await resolve_addresses.by_id(ctx, key)
    return Address.from_model(row) if row else None


async def _user(ctx: Context, key: int) -> Node | None:
    viewer = await resolve_users.by_id(ctx, key)
    return User.from_viewer(viewer) if viewer else None


async def _order(ctx: Context, key: int) -> Node | None:
    row = await resolve_orders.by_id(ctx, key)
    return Order.from_model(row) if row else None


_RESOLVERS: dict[str, Callable[[Context, int], Awaitable[Node | None]]] = {
    "Product": _product,
    "ProductVariant": _variant,
    "Category": _category,
    "Warehouse": _warehouse,
    "Address": _address,
    "User": _user,
    "Order": _order,
}


@strawberry.type
class NodeQuery:
    @strawberry.field(
        description="Any object by its global id; null if unknown or not yours to see."
    )
    async def node(self, info: CtxInfo, id: strawberry.ID) -> Node | None:
        parsed = parse_global_id(id)
        if parsed is None or parsed[0] not in _RESOLVERS:
            return None
        try:
            key = int(parsed[1])
        except ValueError:
            return None
        if not 0 < key < 2**63:
            return None
        return await _RESOLVERS[parsed[0]](info.context, key)
