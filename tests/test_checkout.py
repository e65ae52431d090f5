"""Checkout through the HTTP app: all or nothing, exact, and safe under a rush."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from app.accounts.permissions import Permission
from app.orders.expiry import cancel_expired_orders
from app.payments.refunds import Refunder
from app.settings import Settings
from app.web.asgi import create_app
from tests.conftest import Server, make_customer, make_staff
from tests.shop import ADDRESS, Shop, build_shop, cart_op, sql, stock_rows
from tests.support import Clock, GraphQLClient

STOCK = "query($id: ID!) { node(id: $id) { ... on ProductVariant { quantityAvailable } } }"


@pytest.fixture
async def shop(server: Server) -> Shop:
    return await build_shop(server)


async def ready_cart(
    api: GraphQLClient,
    shop: Shop,
    *lines: tuple[str, int],
    token: str | None = None,
    coupon: str | None = None,
) -> str:
    """A cart with lines, an address in Germany and Standard shipping."""
    cart, errors = await cart_op(
        api,
        "CartCreate",
        {"lines": [{"variantId": shop.variants[sku], "quantity": q} for sku, q in lines]},
        token,
    )
    assert errors == [], errors
    assert cart is not None
    cart_id = str(cart["id"])
    _, errors = await cart_op(
        api, "CartShippingAddressSet", {"cartId": cart_id, "address": ADDRESS}, token
    )
    assert errors == []
    _, errors = await cart_op(
        api,
        "CartShippingMethodSelect",
        {"cartId": cart_id, "shippingMethodId": shop.shipping["Standard"]},
        token,
    )
    assert errors == []
    if coupon:
        _, errors = await cart_op(
            api, "CartCouponApply", {"cartId": cart_id, "code": coupon}, token
        )
        assert errors == [], errors
    return cart_id


async def checkout(
    api: GraphQLClient,
    cart_id: str,
    key: str | None = None,
    token: str | None = None,
    **fields: Any,
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    data = {"acceptTerms": True, "idempotencyKey": key or uuid.uuid4().hex, **fields}
    if token is None:
        data.setdefault("email", "guest@example.com")
    result = await api.op("CheckoutComplete", {"cartId": cart_id, "input": data}, token=token)
    payload = result.data["checkoutComplete"]
    return payload["order"], payload["userErrors"]


async def cancel_overdue(server: Server) -> int:
    """The upkeep's cancellation of unpaid orders past their deadline, run now."""
    services = server.services
    refunder = Refunder(services.db, services.gateway)
    return await cancel_expired_orders(services.db, server.clock(), refunder.refund_in_full)


async def available(api: GraphQLClient, shop: Shop, sku: str) -> int:
    return int(
        (await api.query(STOCK, {"id": shop.variants[sku]})).data["node"]["quantityAvailable"]
    )


async def test_checkout_makes_an_unpaid_order_and_closes_the_cart(
    api: GraphQLClient, shop: Shop, server: Server
) -> None:
    cart_id = await ready_cart(api, shop, ("runner-42", 2), ("sock-3", 3))
    cart = (await api.op("Cart", {"id": cart_id})).data["cart"]
    order, errors = await checkout(api, cart_id)
    assert errors == []
    assert order is not None
    assert order["status"] == "UNPAID"
    assert order["total"] == cart["total"]
    # Germany, 19 %: 30.40 + 1.90 on 169.99 of goods; shipping is free over 150.00.
    assert order["total"]["amount"] == "202.29"
    assert int(order["number"]) > 0
    assert await available(api, shop, "runner-42") == 8
    assert await available(api, shop, "sock-3") == 97
    again = await api.op("Cart", {"id": cart_id})
    assert again.error_codes == ["NOT_FOUND"]
    (row,) = await sql(
        server,
        "SELECT amount_due, total, subtotal, discount_total, shipping_total, tax_total"
        " FROM shop_order",
    )
    lines = await sql(
        server,
        "SELECT sku, quantity, subtotal, discount_allocated, tax, total"
        " FROM order_line ORDER BY sku",
    )
    events = await sql(server, "SELECT type FROM order_event")
    assert row[0] == row[1] == 20229
    assert row[1] == row[2] - row[3] + row[4] + row[5]
    assert [tuple(line) for line in lines] == [
        ("runner-42", 2, 16000, 0, 3040, 19040),
        ("sock-3", 3, 999, 0, 190, 1189),
    ]
    assert [e[0] for e in events] == ["PLACED"]


async def test_every_precondition_is_a_user_error_that_changes_nothing(
    api: GraphQLClient, shop: Shop
) -> None:
    empty, errors = await cart_op(api, "CartCreate", {"lines": []})
    assert empty is not None
    _, errors = await checkout(api, empty["id"])
    assert errors[0]["code"] == "CART_EMPTY"

    cart, _ = await cart_op(
        api, "CartCreate", {"lines": [{"variantId": shop.variants["tote-red"], "quantity": 2}]}
    )
    assert cart is not None
    _, errors = await checkout(api, cart["id"], acceptTerms=False)
    assert errors[0]["code"] == "TERMS_NOT_ACCEPTED"
    _, errors = await checkout(api, cart["id"], email=None)
    assert errors[0]["code"] == "REQUIRED"
    _, errors = await checkout(api, cart["id"])
    assert errors[0]["code"] == "SHIPPING_ADDRESS_REQUIRED"
    await cart_op(api, "CartShippingAddressSet", {"cartId": cart["id"], "address": ADDRESS})
    _, errors = await checkout(api, cart["id"])
    assert errors[0]["code"] == "SHIPPING_METHOD_REQUIRED"
    await cart_op(
        api,
        "CartShippingMethodSelect",
        {"cartId": cart["id"], "shippingMethodId": shop.shipping["Express"]},
    )
    # Stock drops below what the cart wants before checkout: refused, nothing taken.
    await shop.admin(
        "StockSet",
        {"variantId": shop.variants["tote-red"], "warehouseId": shop.warehouses[0], "quantity": 1},
    )
    _, errors = await checkout(api, cart["id"])
    assert errors == [
        {
            "field": ["lines", "0", "quantity"],
            "message": "only 1 of tote-red available",
            "code": "INSUFFICIENT_STOCK",
        }
    ]
    assert await available(api, shop, "tote-red") == 1
    assert (await api.op("Cart", {"id": cart["id"]})).data["cart"]["lines"][0]["quantity"] == 2


async def test_the_same_idempotency_key_gives_one_order(api: GraphQLClient, shop: Shop) -> None:
    cart_id = await ready_cart(api, shop, ("runner-42", 1))
    results = await asyncio.gather(*(checkout(api, cart_id, key="retry-1") for _ in range(10)))
    orders = {order["id"] for order, errors in results if order is not None}
    assert all(errors == [] for _, errors in results), results
    assert len(orders) == 1
    assert await available(api, shop, "runner-42") == 9
    _, errors = await checkout(api, cart_id, key="another-key")
    assert errors[0]["code"] == "NOT_FOUND"


async def test_fifty_buyers_for_ten_units(server: Server, shop: Shop) -> None:
    api = server.client
    await shop.product("limited", [("limited-1", "49.00", [6, 4])])
    carts = [await ready_cart(api, shop, ("limited-1", 1)) for _ in range(50)]
    results = await asyncio.gather(*(checkout(api, cart_id) for cart_id in carts))
    sold = [order for order, _ in results if order is not None]
    refused = [errors[0]["code"] for order, errors in results if order is None]
    assert len(sold) == 10
    assert refused == ["INSUFFICIENT_STOCK"] * 40
    taken = (
        await sql(server, "SELECT count(*), sum(quantity) FROM order_line WHERE sku = 'limited-1'")
    )[0]
    assert await stock_rows(server, "limited-1") == [(0, 0), (0, 0)]
    assert tuple(taken) == (10, 10)


async def test_a_coupon_limited_to_one_use_is_used_once(server: Server, shop: Shop) -> None:
    api = server.client
    await shop.promotion(
        name="First!", kind="FIXED_AMOUNT", value="2.00", couponCode="FIRST", usageLimit=1
    )
    carts = [await ready_cart(api, shop, ("sock-3", 1), coupon="FIRST") for _ in range(20)]
    results = await asyncio.gather(*(checkout(api, cart_id) for cart_id in carts))
    used = [order for order, _ in results if order is not None]
    refused = [errors[0]["code"] for order, errors in results if order is None]
    assert len(used) == 1
    assert refused == ["COUPON_USAGE_LIMIT"] * 19
    assert await available(api, shop, "sock-3") == 99


async def test_sql_statements_of_checkout_are_bounded(server: Server, shop: Shop) -> None:
    api = server.client
    await shop.promotion(name="Ten off", kind="PERCENTAGE", value="10", couponCode="TEN")
    cart_id = await ready_cart(
        api, shop, ("runner-42", 1), ("tote-red", 1), ("sock-3", 2), coupon="TEN"
    )
    result = await api.op(
        "CheckoutComplete",
        {
            "cartId": cart_id,
            "input": {"acceptTerms": True, "idempotencyKey": "k", "email": "a@example.com"},
        },
    )
    assert result.data["checkoutComplete"]["userErrors"] == []
    assert result.statements <= 25, result.statements


async def test_unpaid_orders_are_cancelled_and_release_their_stock(
    server: Server, shop: Shop
) -> None:
    api = server.client
    customer = await make_customer(server)
    await shop.promotion(
        name="Once", kind="FIXED_AMOUNT", value="1.00", couponCode="ONCE", usageLimit=1
    )
    cart_id = await ready_cart(api, shop, ("runner-43", 2), token=customer, coupon="ONCE")
    order, errors = await checkout(api, cart_id, token=customer)
    assert errors == []
    assert order is not None
    assert await available(api, shop, "runner-43") == 0

    server.clock.advance(minutes=29)
    assert await cancel_overdue(server) == 0
    server.clock.advance(minutes=2)
    assert await cancel_overdue(server) == 1
    assert await cancel_overdue(server) == 0
    assert await available(api, shop, "runner-43") == 2
    # The coupon use is given back with the order.
    again = await ready_cart(api, shop, ("sock-3", 1), coupon="ONCE")
    _, errors = await checkout(api, again)
    assert errors == []


async def test_per_customer_limits_count_each_customer(server: Server, shop: Shop) -> None:
    api = server.client
    await shop.promotion(
        name="Welcome", kind="PERCENTAGE", value="5", couponCode="WELCOME", perCustomerLimit=1
    )
    erin = await make_customer(server, "erin@example.com")
    first = await ready_cart(api, shop, ("sock-3", 1), token=erin, coupon="WELCOME")
    order, errors = await checkout(api, first, token=erin)
    assert errors == []
    assert order is not None
    second = await ready_cart(api, shop, ("sock-3", 1), token=erin)
    _, errors = await cart_op(api, "CartCouponApply", {"cartId": second, "code": "welcome"}, erin)
    assert errors[0]["code"] == "COUPON_USAGE_LIMIT"
    # Someone else still may.
    frank = await make_customer(server, "frank@example.com")
    await ready_cart(api, shop, ("sock-3", 1), token=frank, coupon="WELCOME")


async def test_orders_are_visible_to_their_owner_and_order_staff_only(
    server: Server, shop: Shop
) -> None:
    api = server.client
    gina = await make_customer(server, "gina@example.com")
    cart_id = await ready_cart(api, shop, ("sock-3", 1), token=gina)
    order, _ = await checkout(api, cart_id, token=gina)
    assert order is not None
    query = "query($id: ID!) { node(id: $id) { id ... on Order { number email } } }"
    mine = (await api.query(query, {"id": order["id"]}, token=gina)).data["node"]
    assert mine == {"id": order["id"], "number": order["number"], "email": "gina@example.com"}
    hank = await make_customer(server, "hank@example.com")
    foreign = await api.query(query, {"id": order["id"]}, token=hank)
    unknown = await api.query(query, {"id": "T3JkZXI6OTk5OTk5"}, token=hank)
    assert foreign.answer == unknown.answer == {"data": {"node": None}}
    assert (await api.query(query, {"id": order["id"]})).data["node"] is None
    clerk = await make_staff(server, "clerk@example.com", frozenset({Permission.MANAGE_ORDERS}))
    assert (await api.query(query, {"id": order["id"]}, token=clerk)).data["node"] == mine


async def test_the_background_upkeep_cancels_overdue_orders(
    settings: Settings, clock: Clock
) -> None:
    app = create_app(settings.with_overrides(maintenance_interval_seconds=1), clock=clock)
    services = app.state.services
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        server = Server(app, services, GraphQLClient(http, services.db.counter), clock)
        shop = await build_shop(server)
        cart_id = await ready_cart(server.client, shop, ("runner-43", 2))
        order, _ = await checkout(server.client, cart_id)
        assert order is not None
        clock.advance(minutes=31)
        for _ in range(50):  # the loop runs every second; give it a few rounds
            if await available(server.client, shop, "runner-43") == 2:
                break
            await asyncio.sleep(0.1)
        assert await available(server.client, shop, "runner-43") == 2
        assert await sql(server, "SELECT status FROM shop_order") == [("CANCELLED",)]


async def test_per_customer_limits_hold_under_concurrency_and_other_emails(
    server: Server, shop: Shop
) -> None:
    api = server.client
    await shop.promotion(
        name="Once each", kind="FIXED_AMOUNT", value="1.00", couponCode="ONCEEACH",
        perCustomerLimit=1,
    )  # fmt: skip
    carts = [await ready_cart(api, shop, ("sock-3", 1), coupon="ONCEEACH") for _ in range(10)]
    results = await asyncio.gather(
        *(checkout(api, cart_id, email="same@example.com") for cart_id in carts)
    )
    assert sum(order is not None for order, _ in results) == 1
    assert sorted({errors[0]["code"] for order, errors in results if order is None}) == [
        "COUPON_USAGE_LIMIT"
    ]
    # A signed-in customer is counted by account, whatever email the checkout names.
    ivy = await make_customer(server, "ivy@example.com")
    first = await ready_cart(api, shop, ("sock-3", 1), token=ivy, coupon="ONCEEACH")
    assert (await checkout(api, first, token=ivy, email="ivy+1@example.com"))[1] == []
    second = await ready_cart(api, shop, ("sock-3", 1), token=ivy)
    _, errors = await cart_op(api, "CartCouponApply", {"cartId": second, "code": "ONCEEACH"}, ivy)
    assert errors[0]["code"] == "COUPON_USAGE_LIMIT"


async def test_an_automatic_offer_used_up_by_a_customer_is_dropped_at_checkout(
    server: Server, shop: Shop
) -> None:
    api = server.client
    await shop.promotion(name="First order", kind="FIXED_AMOUNT", value="0.50", perCustomerLimit=1)
    jo = await make_customer(server, "jo@example.com")
    first, _ = await checkout(api, await ready_cart(api, shop, ("sock-3", 1), token=jo), token=jo)
    second, _ = await checkout(api, await ready_cart(api, shop, ("sock-3", 1), token=jo), token=jo)
    assert first is not None
    assert second is not None
    # 3.33 of socks + 5.90 shipping, 19 % tax on both; the 0.50 off only the first time.
    assert (first["total"]["amount"], second["total"]["amount"]) == ("10.39", "10.98")


async def test_other_carts_expired_holds_do_not_block_checkout(server: Server, shop: Shop) -> None:
    api = server.client
    await shop.product("drop", [("drop-1", "9.00", [3])], reserve_on_add=True)
    early = await ready_cart(api, shop, ("drop-1", 2))
    server.clock.advance(minutes=2)
    await cart_op(
        api, "CartCreate", {"lines": [{"variantId": shop.variants["drop-1"], "quantity": 1}]}
    )
    # Both holds have run out, and no upkeep has swept them.
    server.clock.advance(minutes=16)
    order, errors = await checkout(api, early)
    assert errors == []
    assert order is not None
    assert await stock_rows(server, "drop-1") == [(1, 0)]
