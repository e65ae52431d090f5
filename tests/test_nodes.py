"""Global ids: every Node type resolves through node(id:) and nodes(ids:) for whoever may
see it, and for no one else; a batch of ids costs the same SQL whatever its size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from graphql import GraphQLInterfaceType, GraphQLObjectType
from sqlalchemy import text

from app import ids
from app.accounts.permissions import Permission
from schema import schema
from schema.node import MAX_NODES, SOURCES
from tests.conftest import Server, make_customer, make_staff
from tests.logistics import carrier_event, carrier_says, ship
from tests.orders import gateway_says, gift_card, lines_of, paid, pay
from tests.shop import ADDRESS, Shop, build_shop, cart_op
from tests.support import GraphQLClient
from tests.test_checkout import checkout, ready_cart

LOOKUP = (
    "query($id: ID!, $ids: [ID!]!) {"
    " node(id: $id) { __typename id } nodes(ids: $ids) { __typename id } }"
)
CART_LINES = "query($id: ID!) { cart(id: $id) { lines { id } shippingAddress { id } } }"
ME = "{ me { id } }"
ORDER_PARTS = (
    "query($id: ID!) { order(id: $id) { lines { id } shippingAddress { id } refunds { id } } }"
)
NOTIFICATIONS = "{ paymentNotifications(first: 1) { edges { node { id } } } }"
OUTBOX = "{ emailOutbox(first: 1) { edges { node { id } } } }"
# Anyone may see these: there is no stranger to refuse.
EVERYONE = "everyone"


@dataclass(frozen=True)
class Example:
    """One object of a kind of id, who may see it, and who may not (a token; None is an
    anonymous caller)."""

    kind: str
    typename: str
    id: str
    allowed: str | None
    stranger: str | None


@dataclass
class World:
    shop: Shop
    customer: str
    other: str
    examples: list[Example]


async def _data(
    api: GraphQLClient, query: str, variables: dict[str, Any], token: str | None
) -> dict[str, Any]:
    return (await api.query(query, variables, token=token)).data


async def _payload(
    api: GraphQLClient, name: str, variables: dict[str, Any], token: str | None
) -> dict[str, Any]:
    result = await api.op(name, variables, token=token)
    payload: dict[str, Any] = next(iter(result.data.values()))
    assert payload["userErrors"] == [], (name, payload["userErrors"])
    return payload


async def _world(server: Server) -> World:
    api = server.client
    shop = await build_shop(server)
    staff = shop.staff
    customer = await make_customer(server, "owner@example.com")
    other = await make_customer(server, "stranger@example.com")

    draft = (
        await _payload(
            api,
            "ProductCreate",
            {"input": {"name": "Draft", "variants": [{"sku": "draft-1", "price": "5.00"}]}},
            staff,
        )
    )["product"]
    me = (await _data(api, ME, {}, customer))["me"]
    address = (await _payload(api, "AddressCreate", {"input": ADDRESS}, customer))["address"]
    promotion = await shop.promotion(name="Ten off", kind="PERCENTAGE", value="10")

    # The customer's first cart becomes an order, paid in part by a gift card and then
    # cancelled (the gift card refunded); the second cart stays open.
    order, errors = await checkout(
        api, await ready_cart(api, shop, ("sock-3", 1), token=customer), token=customer
    )
    assert errors == []
    assert order is not None
    card = await gift_card(shop, "1.00")
    payment, errors = await pay(
        server, order["id"], "GIFT_CARD", customer, giftCardCode=card["code"]
    )
    assert errors == []
    cancelled = await _payload(api, "OrderCancel", {"id": order["id"]}, customer)
    assert cancelled["order"]["status"] == "CANCELLED"
    detail = (await _data(api, ORDER_PARTS, {"id": order["id"]}, customer))["order"]
    assert (await gateway_says(server, "payment.succeeded", "sbx_unknown", "1.00")).is_success
    notification = (await _data(api, NOTIFICATIONS, {}, staff))["paymentNotifications"]
    # A second order, delivered, with a return request; the cancellation above was emailed.
    kept = await paid(server, shop, ("sock-3", 1), token=customer)
    kept_line = (await lines_of(server, kept, customer))["lines"][0]["id"]
    parcel = (await ship(server, shop, kept, 0, [(kept_line, 1)], number="N1"))["shipment"]
    delivered = await carrier_says(server, carrier_event("N1", "DELIVERED", server.clock()))
    assert delivered.json() == {"status": "applied"}
    returned = await _payload(
        api,
        "ReturnRequestCreate",
        {"orderId": kept.id, "lines": [{"orderLineId": kept_line, "quantity": 1}],
         "reason": "too big"},
        customer,
    )  # fmt: skip
    outbox = (await _data(api, OUTBOX, {}, staff))["emailOutbox"]
    cart_id = await ready_cart(api, shop, ("tote-red", 1), token=customer)
    cart = (await _data(api, CART_LINES, {"id": cart_id}, customer))["cart"]

    examples = [
        Example("Product", "Product", draft["id"], staff, other),
        Example("ProductVariant", "ProductVariant", draft["variants"][0]["id"], staff, None),
        Example("Category", "Category", shop.categories["shoes"], None, EVERYONE),
        Example("Warehouse", "Warehouse", shop.warehouses[0], staff, other),
        Example("User", "User", me["id"], customer, other),
        Example("Address", "Address", address["id"], customer, other),
        Example("CartAddress", "Address", cart["shippingAddress"]["id"], customer, other),
        Example("Cart", "Cart", cart_id, customer, other),
        Example("CartLine", "CartLine", cart["lines"][0]["id"], customer, other),
        Example("Order", "Order", order["id"], customer, other),
        Example("OrderLine", "OrderLine", detail["lines"][0]["id"], customer, other),
        Example("OrderAddress", "Address", detail["shippingAddress"]["id"], customer, other),
        Example("Payment", "Payment", payment["payment"]["id"], customer, other),
        Example("Refund", "Refund", detail["refunds"][0]["id"], customer, other),
        Example("GiftCard", "GiftCard", card["id"], staff, customer),
        Example(
            "PaymentNotification",
            "PaymentNotification",
            notification["edges"][0]["node"]["id"],
            staff,
            customer,
        ),
        Example("ReturnRequest", "ReturnRequest", returned["returnRequest"]["id"], customer, other),
        Example("OutboxEmail", "OutboxEmail", outbox["edges"][0]["node"]["id"], staff, customer),
        Example("Promotion", "Promotion", promotion["id"], staff, customer),
        Example("ShippingMethod", "ShippingMethod", shop.shipping["Standard"], None, EVERYONE),
        Example("Shipment", "Shipment", parcel["id"], customer, other),
    ]
    return World(shop, customer, other, examples)


def _node_types() -> set[str]:
    node = schema._schema.get_type("Node")
    assert isinstance(node, GraphQLInterfaceType)
    return {
        name
        for name, type_ in schema._schema.type_map.items()
        if isinstance(type_, GraphQLObjectType) and node in type_.interfaces
    }


_SAMPLE_KEYS: dict[object, object] = {
    ids.INT_KEY: 42,
    ids.TOKEN_KEY: "tok_EN-1",
    ids.CART_LINE_KEY: ids.CartLineKey.of(7, "tok_EN-1"),
    ids.ORDER_KEY: ids.OrderKey.of(7, "tok_EN-1"),
}


@pytest.mark.parametrize("kind", list(ids.KINDS.values()), ids=list(ids.KINDS))
def test_each_kind_of_id_reads_back_what_it_writes_and_no_other_kind_does(
    kind: ids.IdKind[Any],
) -> None:
    key = _SAMPLE_KEYS[kind.key]
    value = kind.encode(key)
    assert ids.decode(value) == (kind, key)
    assert kind.decode(value) == key
    assert all(other.decode(value) is None for other in ids.KINDS.values() if other is not kind)


def test_a_cart_line_key_is_proven_by_its_cart_token_only() -> None:
    key = ids.CartLineKey.of(7, "secret-cart-token")
    assert key.proven_by("secret-cart-token")
    assert not key.proven_by("another-cart-token")
    assert not ids.CartLineKey.of(8, "secret-cart-token").proven_by("another-cart-token")
    assert not ids.CartLineKey(7).proven_by("secret-cart-token")


def test_every_kind_of_id_has_a_source_of_its_type() -> None:
    assert set(SOURCES) == set(ids.KINDS.values())
    assert {source.type.__name__ for source in SOURCES.values()} == _node_types()


async def test_every_node_type_resolves_for_who_may_see_it_and_no_one_else(
    server: Server,
) -> None:
    world = await _world(server)
    api = server.client
    # A new Node type, or a new kind of id, needs an example here.
    assert {e.typename for e in world.examples} == _node_types()
    assert {e.kind for e in world.examples} == set(ids.KINDS)

    for example in world.examples:
        assert ids.decode(example.id) is not None
        assert ids.decode(example.id)[0].name == example.kind  # type: ignore[index]
        unknown = _unknown_id_like(example.id)
        seen = await _data(
            api, LOOKUP, {"id": example.id, "ids": [example.id, unknown]}, example.allowed
        )
        found = {"__typename": example.typename, "id": example.id}
        assert seen == {"node": found, "nodes": [found, None]}, example

        if example.stranger == EVERYONE:
            hidden = await _data(api, LOOKUP, {"id": unknown, "ids": [unknown]}, None)
        else:
            hidden = await _data(
                api, LOOKUP, {"id": example.id, "ids": [example.id]}, example.stranger
            )
        assert hidden == {"node": None, "nodes": [None]}, example

    # Orders: their owner and staff who manage orders, no one else.
    order = next(e for e in world.examples if e.kind == "Order")
    manager = await make_staff(server, "orders@example.com", frozenset({Permission.MANAGE_ORDERS}))
    catalog = await make_staff(
        server, "catalog@example.com", frozenset({Permission.MANAGE_PRODUCTS})
    )
    assert (await _data(api, LOOKUP, {"id": order.id, "ids": []}, manager))["node"]
    assert (await _data(api, LOOKUP, {"id": order.id, "ids": []}, catalog))["node"] is None
    assert (await _data(api, LOOKUP, {"id": order.id, "ids": []}, None))["node"] is None


def _unknown_id_like(value: str) -> str:
    """An id of the same kind that names nothing."""
    found = ids.decode(value)
    assert found is not None
    kind, key = found
    if isinstance(key, int):
        return kind.encode(9_999_999)
    if isinstance(key, ids.CartLineKey):
        return kind.encode(ids.CartLineKey.of(9_999_999, "no-such-cart"))
    if isinstance(key, ids.OrderKey):
        return kind.encode(ids.OrderKey.of(9_999_999, "no-such-order"))
    return kind.encode("no-such-token")


async def test_a_guest_sees_its_cart_and_lines_by_their_ids_alone(server: Server) -> None:
    api = server.client
    shop = await build_shop(server)
    cart_id = await ready_cart(api, shop, ("tote-red", 1), ("sock-3", 2))
    cart = (await _data(api, CART_LINES, {"id": cart_id}, None))["cart"]
    line_ids = [line["id"] for line in cart["lines"]]
    address_id = cart["shippingAddress"]["id"]

    wanted = [cart_id, *line_ids, address_id]
    seen = await _data(api, LOOKUP, {"id": line_ids[0], "ids": wanted}, None)
    assert [n["id"] for n in seen["nodes"]] == wanted
    assert [n["__typename"] for n in seen["nodes"]] == ["Cart", "CartLine", "CartLine", "Address"]

    # A line's id proves it was read from its cart: neither its bare row id nor a proof
    # made from another cart's token opens it, and the line id does not hold the cart id.
    key = ids.CART_LINE.decode(line_ids[0])
    assert key is not None
    cart_token = ids.CART.decode(cart_id)
    assert cart_token is not None
    forged = [
        ids.CART_LINE.encode(ids.CartLineKey(key.line_id)),
        ids.CART_LINE.encode(ids.CartLineKey.of(key.line_id, "another-cart-token")),
        ids.to_global_id("CartLine", key.line_id),
    ]
    refused = await _data(api, LOOKUP, {"id": forged[0], "ids": forged}, None)
    assert refused == {"node": None, "nodes": [None, None, None]}
    assert cart_token not in ids.parse_global_id(line_ids[0])[1]  # type: ignore[index]

    # An expired cart, and with it its lines and address, is no one's to see.
    server.clock.advance(seconds=server.services.settings.cart_ttl_seconds + 1)
    gone = await _data(api, LOOKUP, {"id": cart_id, "ids": wanted}, None)
    assert gone == {"node": None, "nodes": [None] * len(wanted)}


async def test_cart_line_ids_from_before_the_proof_still_work_in_cart_mutations(
    server: Server,
) -> None:
    api = server.client
    shop = await build_shop(server)
    cart, errors = await cart_op(
        api, "CartCreate", {"lines": [{"variantId": shop.variants["sock-3"], "quantity": 1}]}
    )
    assert errors == []
    assert cart is not None
    key = ids.CART_LINE.decode(cart["lines"][0]["id"])
    assert key is not None
    bare = ids.to_global_id("CartLine", key.line_id)
    updated, errors = await cart_op(
        api, "CartLinesUpdate", {"cartId": cart["id"], "lines": [{"lineId": bare, "quantity": 3}]}
    )
    assert errors == []
    assert updated is not None
    assert updated["lines"][0]["quantity"] == 3
    assert updated["lines"][0]["id"] == cart["lines"][0]["id"]


async def test_nodes_keeps_order_and_repeats_and_is_bounded(server: Server) -> None:
    api = server.client
    shop = await build_shop(server)
    sock, tote = shop.variants["sock-3"], shop.variants["tote-red"]
    wanted = [tote, "not-an-id", sock, tote, ids.PRODUCT.encode(9_999_999)]
    seen = await _data(api, LOOKUP, {"id": sock, "ids": wanted}, None)
    assert [n["id"] if n else None for n in seen["nodes"]] == [tote, None, sock, tote, None]

    # Alone in its document: a failing field leaves its siblings running past the response.
    too_many = await api.query(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [sock] * (MAX_NODES + 1)}
    )
    assert too_many.error_codes == ["INVALID"]
    assert too_many.errors[0]["extensions"]["field"] == ["ids"]


async def _ids_of(server: Server, shop: Shop, count: int) -> list[str]:
    """`count` ids of each kind a staff member may see, the lines and address of one cart.

    No variant asked for is of a product asked for, or in the cart: its product is then
    fetched by the same statements whatever `count` is."""
    api = server.client
    variants = [shop.variants[f"cap-{i}"] for i in range(1, count + 1)]
    chosen = [
        *list(shop.products.values())[:count],
        *variants,
        *list(shop.categories.values())[:count],
        *shop.warehouses[:count],
        *list(shop.shipping.values())[:count],
    ]
    for i in range(count):
        customer = await make_customer(server, f"batch-{count}-{i}@example.com")
        chosen.append((await _data(api, ME, {}, customer))["me"]["id"])
        address = await _payload(api, "AddressCreate", {"input": ADDRESS}, customer)
        chosen.append(address["address"]["id"])
        promotion = await shop.promotion(name=f"Batch {count} {i}", kind="PERCENTAGE", value="5")
        chosen.append(promotion["id"])
        order, errors = await checkout(api, await ready_cart(api, shop, ("sock-3", 1)))
        assert errors == []
        assert order is not None
        chosen.append(order["id"])
    # The lines of one guest cart share its one view, however many are asked for.
    lines = [(sku, 1) for sku in ("sock-3", "tote-red", "runner-42", "runner-43")[: count + 1]]
    cart_id = await ready_cart(api, shop, *lines)
    cart = (await _data(api, CART_LINES, {"id": cart_id}, None))["cart"]
    chosen.extend([cart_id, cart["shippingAddress"]["id"]])
    chosen.extend(line["id"] for line in cart["lines"][:count])
    return chosen


async def test_nodes_statements_do_not_grow_with_the_number_of_ids(server: Server) -> None:
    api = server.client
    shop = await build_shop(server)
    await shop.product("cap", [(f"cap-{i}", "9.00", [10, 10]) for i in (1, 2, 3)], category="bags")
    await api.op("CategoryTree")  # the tree is cached in any running server

    counts = []
    for count in (1, 3):
        wanted = await _ids_of(server, shop, count)
        result = await api.query(LOOKUP, {"id": wanted[0], "ids": wanted}, token=shop.staff)
        nodes = result.data["nodes"]
        assert None not in nodes, list(zip(wanted, nodes, strict=True))
        assert [n["id"] for n in nodes] == wanted
        counts.append(result.statements)
    assert counts[0] == counts[1], counts
    # A batch per kind (the variants' products and the lines' carts are one more each),
    # and the priced view of the cart, built for the cart and again for its lines.
    assert counts[1] <= 22, counts


async def test_inactive_shipping_methods_are_for_shipping_managers(server: Server) -> None:
    api = server.client
    shop = await build_shop(server)
    method = shop.shipping["Express"]
    key = ids.SHIPPING_METHOD.decode(method)
    async with server.services.db.transaction() as session:
        await session.exec(  # type: ignore[call-overload]
            text("UPDATE shipping_method SET active = false WHERE id = :id"), params={"id": key}
        )
    shipping = await make_staff(
        server, "shipping@example.com", frozenset({Permission.MANAGE_SHIPPING})
    )
    for token, visible in ((None, False), (shop.staff, True), (shipping, True)):
        seen = await _data(api, LOOKUP, {"id": method, "ids": [method]}, token)
        assert (seen["node"] is not None) is visible, token


@pytest.mark.parametrize(
    "forged",
    [
        "",
        "Product:1",
        ids.to_global_id("Product", "0"),
        ids.to_global_id("Product", "1_000"),
        ids.to_global_id("Product", str(2**63)),
        ids.to_global_id("Cart", "x" * 65),
        ids.to_global_id("CartLine", "1_not!a*proof"),
        ids.to_global_id("Nothing", 1),
    ],
)
async def test_forged_ids_name_nothing(api: GraphQLClient, forged: str) -> None:
    seen = await _data(api, LOOKUP, {"id": forged, "ids": [forged]}, None)
    assert seen == {"node": None, "nodes": [None]}
