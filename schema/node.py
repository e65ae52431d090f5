"""`node(id:)` and `nodes(ids:)`: any object by its global id, for whoever may see it.

`SOURCES` is the registry: for each kind of id (`app.ids`), the GraphQL type its
objects are and the batch that fetches them through the request's dataloaders,
with the same visibility as everywhere else. Importing this module fails if a
kind of id has no source, and a test fails if a type implementing `Node` has
none, so no kind and no type can be forgotten.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import strawberry

from app import ids
from app.errors import ErrorCode, fail
from resolvers import logistics as resolve_logistics
from resolvers import nodes as resolve_nodes
from resolvers import notifications as resolve_notifications
from resolvers import orders as resolve_orders
from resolvers import payments as resolve_payments
from resolvers import returns as resolve_returns
from resolvers.accounts import addresses as resolve_addresses
from resolvers.accounts import users as resolve_users
from resolvers.catalog import products as resolve_products
from resolvers.catalog import warehouses as resolve_warehouses
from schema.access import PUBLIC, query
from schema.accounts.types import Address, User
from schema.cart.types import Cart, CartLine, cart_lines
from schema.catalog.types import Category, Product, ProductVariant, Warehouse
from schema.checkout.types import Promotion, ShippingMethod
from schema.common import CtxInfo, Node
from schema.logistics.types import Shipment
from schema.notifications import OutboxEmail
from schema.orders.returns import ReturnRequest
from schema.orders.types import Order, OrderLine
from schema.payments.types import GiftCard, Payment, PaymentNotification, Refund

K = TypeVar("K")
R = TypeVar("R")

# One request asks for at most this many ids (a page, as for `first`).
MAX_NODES = 100

Fetch = Callable[[CtxInfo, list[K]], Awaitable[Sequence[Node | None]]]


@dataclass(frozen=True, slots=True)
class NodeSource(Generic[K]):
    """Where the objects of one kind of id come from: `fetch` takes a batch of keys and
    returns one object per key, in key order, None where unknown or not visible."""

    kind: ids.IdKind[K]
    type: type[Node]
    fetch: Fetch[K]


def _each(rows: Sequence[R | None], build: Callable[[R], Node | None]) -> list[Node | None]:
    return [build(row) if row is not None else None for row in rows]


async def _products(info: CtxInfo, keys: list[int]) -> list[Node | None]:
    currency = info.context.currency
    rows = await resolve_products.products_by_ids(info.context, keys)
    return _each(rows, lambda row: Product.from_model(row, currency))


async def _variants(info: CtxInfo, keys: list[int]) -> list[Node | None]:
    currency = info.context.currency
    rows = await resolve_products.variants_by_ids(info.context, keys)
    return _each(rows, lambda row: ProductVariant.from_model(row, currency))


async def _categories(info: CtxInfo, keys: list[int]) -> list[Node | None]:
    tree = await info.context.category_tree()
    return [Category.find(tree, key) for key in keys]


async def _warehouses(info: CtxInfo, keys: list[int]) -> list[Node | None]:
    return _each(await resolve_warehouses.by_ids(info.context, keys), Warehouse.from_model)


async def _users(info: CtxInfo, keys: list[int]) -> list[Node | None]:
    return _each(await resolve_users.by_ids(info.context, keys), User.from_viewer)


async def _addresses(info: CtxInfo, keys: list[int]) -> list[Node | None]:
    return _each(await resolve_addresses.by_ids(info.context, keys), Address.from_model)


async def _cart_addresses(info: CtxInfo, tokens: list[str]) -> list[Node | None]:
    carts = await resolve_nodes.carts_by_tokens(info.context, tokens)
    return _each(
        carts,
        lambda cart: (
            Address.of_cart(cart.token, cart.shipping_address) if cart.shipping_address else None
        ),
    )


async def _carts(info: CtxInfo, tokens: list[str]) -> list[Node | None]:
    views = await resolve_nodes.cart_views_by_tokens(info.context, tokens)
    return _each(views, lambda view: Cart.from_view(view, info))


async def _cart_lines(info: CtxInfo, keys: list[ids.CartLineKey]) -> list[Node | None]:
    found = await resolve_nodes.cart_lines_by_keys(info.context, keys)
    currency = info.context.currency
    return _each(found, lambda pair: cart_lines(pair[0], currency).get(pair[1]))


async def _orders(info: CtxInfo, keys: list[ids.OrderKey]) -> list[Node | None]:
    return _each(await resolve_orders.by_keys(info.context, keys), Order.from_model)


async def _order_addresses(info: CtxInfo, keys: list[int]) -> list[Node | None]:
    orders = await resolve_orders.addresses_by_ids(info.context, keys)
    return _each(orders, lambda order: Address.of_order(order.id or 0, order.shipping_address))


async def _order_lines(info: CtxInfo, keys: list[int]) -> list[Node | None]:
    found = await resolve_orders.lines_by_ids(info.context, keys)
    return _each(found, lambda pair: OrderLine.from_model(pair[0], pair[1].currency))


async def _payments(info: CtxInfo, keys: list[int]) -> list[Node | None]:
    return _each(await resolve_payments.payments_by_ids(info.context, keys), Payment.from_model)


async def _refunds(info: CtxInfo, keys: list[int]) -> list[Node | None]:
    return _each(await resolve_payments.refunds_by_ids(info.context, keys), Refund.from_model)


async def _gift_cards(info: CtxInfo, keys: list[int]) -> list[Node | None]:
    return _each(await resolve_payments.gift_cards_by_ids(info.context, keys), GiftCard.from_model)


async def _notifications(info: CtxInfo, keys: list[int]) -> list[Node | None]:
    rows = await resolve_payments.notifications_by_ids(info.context, keys)
    return _each(rows, PaymentNotification.from_model)


async def _return_requests(info: CtxInfo, keys: list[int]) -> list[Node | None]:
    return _each(await resolve_returns.by_ids(info.context, keys), ReturnRequest.from_model)


async def _outbox_emails(info: CtxInfo, keys: list[int]) -> list[Node | None]:
    return _each(await resolve_notifications.by_ids(info.context, keys), OutboxEmail.from_model)


async def _shipments(info: CtxInfo, keys: list[int]) -> list[Node | None]:
    return _each(await resolve_logistics.by_ids(info.context, keys), Shipment.from_model)


async def _promotions(info: CtxInfo, keys: list[int]) -> list[Node | None]:
    currency = info.context.currency
    rows = await resolve_nodes.promotions_by_ids(info.context, keys)
    return _each(rows, lambda row: Promotion.from_model(row, currency))


async def _shipping_methods(info: CtxInfo, keys: list[int]) -> list[Node | None]:
    currency = info.context.currency
    rows = await resolve_nodes.shipping_methods_by_ids(info.context, keys)
    return _each(rows, lambda row: ShippingMethod.from_model(row, currency))


SOURCES: dict[ids.IdKind[Any], NodeSource[Any]] = {
    source.kind: source
    for source in (
        NodeSource(ids.PRODUCT, Product, _products),
        NodeSource(ids.PRODUCT_VARIANT, ProductVariant, _variants),
        NodeSource(ids.CATEGORY, Category, _categories),
        NodeSource(ids.WAREHOUSE, Warehouse, _warehouses),
        NodeSource(ids.USER, User, _users),
        NodeSource(ids.ADDRESS, Address, _addresses),
        NodeSource(ids.CART_ADDRESS, Address, _cart_addresses),
        NodeSource(ids.CART, Cart, _carts),
        NodeSource(ids.CART_LINE, CartLine, _cart_lines),
        NodeSource(ids.ORDER, Order, _orders),
        NodeSource(ids.ORDER_ADDRESS, Address, _order_addresses),
        NodeSource(ids.ORDER_LINE, OrderLine, _order_lines),
        NodeSource(ids.PAYMENT, Payment, _payments),
        NodeSource(ids.REFUND, Refund, _refunds),
        NodeSource(ids.GIFT_CARD, GiftCard, _gift_cards),
        NodeSource(ids.PAYMENT_NOTIFICATION, PaymentNotification, _notifications),
        NodeSource(ids.RETURN_REQUEST, ReturnRequest, _return_requests),
        NodeSource(ids.OUTBOX_EMAIL, OutboxEmail, _outbox_emails),
        NodeSource(ids.PROMOTION, Promotion, _promotions),
        NodeSource(ids.SHIPPING_METHOD, ShippingMethod, _shipping_methods),
        NodeSource(ids.SHIPMENT, Shipment, _shipments),
    )
}
_UNSOURCED = set(ids.KINDS.values()) - set(SOURCES)
if _UNSOURCED:
    raise RuntimeError(f"ids with no node source: {sorted(k.name for k in _UNSOURCED)}")


async def resolve(info: CtxInfo, values: Sequence[str]) -> list[Node | None]:
    """The object of each id, in order; one batch per kind, whatever the number of ids."""
    if len(values) > MAX_NODES:
        raise fail(ErrorCode.INVALID, f"ask for at most {MAX_NODES} ids at once", "ids")
    # Positions of each key of each kind: an id asked for twice is fetched once.
    wanted: dict[ids.IdKind[Any], dict[Any, list[int]]] = {}
    for position, value in enumerate(values):
        found = ids.decode(value)
        if found is not None:
            kind, key = found
            wanted.setdefault(kind, {}).setdefault(key, []).append(position)
    results: list[Node | None] = [None] * len(values)

    async def fetch(kind: ids.IdKind[Any], positions: dict[Any, list[int]]) -> None:
        keys = list(positions)
        objects = await SOURCES[kind].fetch(info, keys)
        for key, found in zip(keys, objects, strict=True):
            for position in positions[key]:
                results[position] = found

    await asyncio.gather(*(fetch(kind, positions) for kind, positions in wanted.items()))
    return results


@strawberry.type
class NodeQuery:
    @query(PUBLIC, "Any object by its global id; null if unknown or not yours to see.")
    async def node(self, info: CtxInfo, id: strawberry.ID) -> Node | None:
        return (await resolve(info, [id]))[0]

    @query(
        PUBLIC,
        f"Objects by their global ids (at most {MAX_NODES}), in the order asked; null for "
        "each one unknown or not yours to see.",
    )
    async def nodes(
        self,
        info: CtxInfo,
        ids: Annotated[
            list[strawberry.ID], strawberry.argument(description=f"At most {MAX_NODES}.")
        ],
    ) -> list[Node | None]:
        return await resolve(info, ids)
