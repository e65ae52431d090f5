"""SQL statements per request do not grow with page size or with a cart's lines (no N+1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from app.seed import SeedReport
from tests.conftest import Server, make_customer
from tests.logistics import carrier_event, carrier_says
from tests.orders import gift_card, give_points, lines_of, paid, place
from tests.shop import ADDRESS, Shop, build_shop, sql
from tests.support import GraphQLClient

MAX_STATEMENTS = 8


async def _warm(api: GraphQLClient) -> None:
    # Loads the category tree into the cache, as any running server has.
    await api.op("CategoryTree")


async def test_product_list_statements_do_not_grow_with_page_size(
    api: GraphQLClient, demo: SeedReport
) -> None:
    await _warm(api)
    small = await api.op("ProductList", {"first": 5})
    large = await api.op("ProductList", {"first": 100})

    assert len(small.data["products"]["edges"]) == 5
    edges = large.data["products"]["edges"]
    assert len(edges) == 100
    assert all(len(e["node"]["variants"]) >= 2 for e in edges)
    assert small.statements == large.statements
    assert large.statements <= MAX_STATEMENTS


async def test_product_list_cold_cache_stays_within_budget(
    api: GraphQLClient, demo: SeedReport
) -> None:
    result = await api.op("ProductList", {"first": 100})
    assert len(result.data["products"]["edges"]) == 100
    assert result.statements <= MAX_STATEMENTS


async def test_filtered_and_sorted_list_statements_are_constant(
    api: GraphQLClient, demo: SeedReport
) -> None:
    await _warm(api)
    counts = set()
    for first in (3, 30):
        result = await api.op(
            "ProductList",
            {
                "first": first,
                "filter": {"categorySlug": "apparel", "inStock": True},
                "sort": "PRICE_ASC",
            },
        )
        assert len(result.data["products"]["edges"]) == first
        counts.add(result.statements)
    assert len(counts) == 1
    assert counts.pop() <= MAX_STATEMENTS


async def test_product_detail_statements(api: GraphQLClient, demo: SeedReport) -> None:
    await _warm(api)
    listing = await api.op("ProductList", {"first": 1})
    slug = listing.data["products"]["edges"][0]["node"]["slug"]
    result = await api.op("ProductDetail", {"slug": slug})
    product = result.data["product"]
    assert product["slug"] == slug
    assert len(product["recommendations"]) == 4
    assert result.statements <= MAX_STATEMENTS


async def test_category_tree_statements(
    server: Server, api: GraphQLClient, demo: SeedReport
) -> None:
    cold = await api.op("CategoryTree")
    assert len(cold.data["categories"]) >= 12
    assert cold.statements <= 2
    warm = await api.op("CategoryTree")
    assert warm.statements == 0
    assert warm.data == cold.data


# --- cart and checkout: as many statements for five lines as for one ----------------

REGULAR = ("sock-3", "runner-42", "tote-red", "cap-1", "cap-2")
HELD = ("flash-1", "flash-2", "flash-3", "flash-4", "flash-5")  # reserve-on-add


@pytest.fixture
async def shop(server: Server) -> Shop:
    shop = await build_shop(server)
    await shop.product("cap", [("cap-1", "12.00", [5, 5]), ("cap-2", "12.00", [5, 5])])
    await shop.product("flash", [(sku, "9.00", [5, 5]) for sku in HELD], reserve_on_add=True)
    await shop.promotion(name="Ten off", kind="PERCENTAGE", value="10", couponCode="TEN")
    return shop


async def _cart_statements(server: Server, shop: Shop, skus: Sequence[str]) -> dict[str, int]:
    """Statements of every cart mutation and of CheckoutComplete, on guest carts with a
    line for each of `skus`."""
    api = server.client
    counts: dict[str, int] = {}

    async def run(name: str, variables: dict[str, Any], counted: bool = True) -> dict[str, Any]:
        server.clock.advance(seconds=1)  # as in real use: each write touches the cart
        result = await api.op(name, variables)
        payload = next(iter(result.data.values()))
        assert payload["userErrors"] == [], (name, payload["userErrors"])
        if counted:
            counts[name] = result.statements
        return payload  # type: ignore[no-any-return]

    await _warm(api)
    lines = [{"variantId": shop.variants[sku], "quantity": 1} for sku in skus]
    removed = (await run("CartCreate", {"lines": lines}))["cart"]
    cart_id = (await run("CartCreate", {"lines": []}, counted=False))["cart"]["id"]
    added = (await run("CartLinesAdd", {"cartId": cart_id, "lines": lines}))["cart"]
    assert len(added["lines"]) == len(skus)
    update = [{"lineId": line["id"], "quantity": 2} for line in added["lines"]]
    await run("CartLinesUpdate", {"cartId": cart_id, "lines": update})
    gone = [line["id"] for line in removed["lines"]]
    assert (await run("CartLinesRemove", {"cartId": removed["id"], "lineIds": gone}))["cart"][
        "lines"
    ] == []
    await run("CartShippingAddressSet", {"cartId": cart_id, "address": ADDRESS})
    method = {"cartId": cart_id, "shippingMethodId": shop.shipping["Standard"]}
    await run("CartShippingMethodSelect", method)
    await run("CartCouponApply", {"cartId": cart_id, "code": "TEN"})
    await run("CartCouponRemove", {"cartId": cart_id, "code": "TEN"})
    await run("CartCouponApply", {"cartId": cart_id, "code": "TEN"}, counted=False)
    checkout = {"acceptTerms": True, "idempotencyKey": "once", "email": "buyer@example.com"}
    order = await run("CheckoutComplete", {"cartId": cart_id, "input": checkout})
    assert order["order"]["status"] == "UNPAID"
    return counts


# Exact, and the same on SQLite and PostgreSQL. Before they were made flat, this scenario
# ran for one line -> five lines: CheckoutComplete 18 -> 22 (PostgreSQL) or 26 (SQLite),
# CartCreate 10 -> 14, CartLinesAdd 11 -> 15; with held lines CartCreate 16 -> 32,
# CartLinesUpdate 21 -> 41 or 45, CheckoutComplete 22 -> 30 or 34.
CART_STATEMENTS = {
    "CartCreate": 10,
    "CartLinesAdd": 11,
    "CartLinesUpdate": 11,
    "CartLinesRemove": 9,
    "CartShippingAddressSet": 7,
    "CartShippingMethodSelect": 8,
    "CartCouponApply": 8,
    "CartCouponRemove": 7,
    "CheckoutComplete": 16,
}
# Held lines add their stock rows' lock, the holds released and taken, and reading them.
HELD_STATEMENTS = {
    "CartCreate": 15,
    "CartLinesAdd": 16,
    "CartLinesUpdate": 18,
    "CartLinesRemove": 12,
    "CartShippingAddressSet": 8,
    "CartShippingMethodSelect": 9,
    "CartCouponApply": 9,
    "CartCouponRemove": 8,
    "CheckoutComplete": 18,
}


@pytest.mark.parametrize(
    ("skus", "expected"),
    [(REGULAR, CART_STATEMENTS), (HELD, HELD_STATEMENTS)],
    ids=["regular", "held"],
)
async def test_cart_and_checkout_statements_do_not_grow_with_lines(
    server: Server, shop: Shop, skus: tuple[str, ...], expected: dict[str, int]
) -> None:
    one = await _cart_statements(server, shop, skus[:1])
    five = await _cart_statements(server, shop, skus)
    assert one == five
    assert five == expected


# --- orders and payments: as many statements for five lines (and orders) as for one ------


async def _order_statements(server: Server, shop: Shop, skus: Sequence[str]) -> dict[str, int]:
    """Statements of PaymentCreate (each tender), OrderDetail and MyOrders, for orders of a
    line per sku; MyOrders lists as many orders as there are skus."""
    api = server.client
    email = f"counts-{len(skus)}@example.com"
    token = await make_customer(server, email)
    await give_points(server, await _user_id(server, email), 100_000)
    lines = [(sku, 1) for sku in skus]
    orders = [await place(server, shop, *lines, token=token) for _ in skus]
    order = orders[0]
    card = await gift_card(shop, "1.00")
    await _warm(api)
    counts: dict[str, int] = {}
    for name, method, args in (
        ("PaymentCreate GIFT_CARD", "GIFT_CARD", {"giftCardCode": card["code"]}),
        ("PaymentCreate POINTS", "POINTS", {"amount": "1.00"}),
        ("PaymentCreate CARD", "CARD", {}),
    ):
        result = await api.op(
            "PaymentCreate", {"orderId": order.id, "method": method, **args}, token=token
        )
        assert result.data["paymentCreate"]["userErrors"] == [], name
        counts[name] = result.statements
    detail = await api.op("OrderDetail", {"id": order.id}, token=token)
    assert len(detail.data["order"]["lines"]) == len(skus)
    assert len(detail.data["order"]["payments"]) == 3
    counts["OrderDetail"] = detail.statements
    listed = await api.op("MyOrders", {"first": 10}, token=token)
    assert listed.data["me"]["orders"]["totalCount"] == len(skus)
    counts["MyOrders"] = listed.statements
    return counts


async def _user_id(server: Server, email: str) -> int:
    (row,) = await sql(server, "SELECT id FROM user_account WHERE email = :e", e=email)
    return int(row[0])


# Exact, and the same on SQLite and PostgreSQL. A gift card or points payment: lock the
# order and the tender, write the payment, the balance, its ledger entry, the order and its
# event; a card: lock the order, write the payment, its reference and event. OrderDetail:
# the order, then one batch each for lines, payments, refunds, shipments and events. MyOrders: the
# page and its count.
ORDER_STATEMENTS = {
    "PaymentCreate GIFT_CARD": 7,
    "PaymentCreate POINTS": 7,
    "PaymentCreate CARD": 4,
    "OrderDetail": 6,
    "MyOrders": 2,
}


async def test_order_and_payment_statements_do_not_grow_with_lines_or_orders(
    server: Server, shop: Shop
) -> None:
    one = await _order_statements(server, shop, REGULAR[:1])
    five = await _order_statements(server, shop, REGULAR)
    assert one == five
    assert five == ORDER_STATEMENTS


# --- after sales: refunds and the back office's lists and report ---------------------------


async def _refund_statements(server: Server, shop: Shop, skus: Sequence[str]) -> dict[str, int]:
    """Statements of OrderRefund giving back one unit of every line of an order paid by
    points, a gift card and the card (the card's part asked of the gateway after commit),
    with the units back on the shelves; and of OrderDetail afterwards."""
    email = f"refund-{len(skus)}@example.com"
    token = await make_customer(server, email)
    order = await paid(
        server, shop, *[(sku, 2) for sku in skus], token=token,
        points_amount="1.00", gift_amount="2.00",
    )  # fmt: skip
    seen = await lines_of(server, order, token)
    await _warm(server.client)
    given = await server.client.op(
        "OrderRefund",
        {
            "orderId": order.id,
            "input": {"lines": [{"orderLineId": line["id"], "quantity": 1}
                                for line in seen["lines"]], "reason": "counted"},
        },
        token=shop.staff,
    )  # fmt: skip
    payload = given.data["orderRefund"]
    assert payload["userErrors"] == []
    assert [a["method"] for a in payload["refund"]["allocations"]] == [
        "GIFT_CARD", "POINTS", "CARD",
    ]  # fmt: skip
    detail = await server.client.op("OrderDetail", {"id": order.id}, token=token)
    assert all(line["quantityRefunded"] == 1 for line in detail.data["order"]["lines"])
    return {"OrderRefund": given.statements, "OrderDetail": detail.statements}


# Exact, and the same on SQLite and PostgreSQL. OrderRefund: lock the order, read its lines
# and payments, count the units on the lines, lock and write the stock rows, the refund,
# each tender's part (gift card: payment, balance, ledger; points: payment, balance,
# ledger; card: payment), the allocations, the refund's lines, the order's event, the
# order and the customer's email; then, after commit, the card's part asked of the
# gateway (read, write its reference), and the payload's allocations. OrderDetail: as
# above, and one batch for the refunds' allocations.
REFUND_STATEMENTS = {"OrderRefund": 24, "OrderDetail": 7}


async def test_refund_statements_do_not_grow_with_lines(server: Server, shop: Shop) -> None:
    one = await _refund_statements(server, shop, REGULAR[:1])
    five = await _refund_statements(server, shop, REGULAR)
    assert one == five
    assert five == REFUND_STATEMENTS


SALES_REPORT = """
query($from: Date!, $to: Date!) { salesReport(from: $from, to: $to) {
  orderCount revenue { amount } averageOrderValue { amount }
  days { date orderCount revenue { amount } }
  topProducts(first: 5) { productName quantity revenue { amount } }
} }
"""
CUSTOMERS = """
query($first: Int!, $search: String) { customers(first: $first, search: $search) {
  totalCount edges { node { id email firstName lastName orderCount totalSpent { amount } } }
} }
"""

# SalesReport: one GROUP BY per UTC day, one for the best sellers. AdminOrders: the page
# and its count. Customers: the page, its count and one batch of order figures.
BACK_OFFICE_STATEMENTS = {"SalesReport": 2, "AdminOrders": 2, "Customers": 3}


async def _back_office_statements(
    server: Server, shop: Shop, orders: int, before: int = 0
) -> dict[str, int]:
    """Statements of SalesReport, AdminOrders and Customers over `before` + `orders` paid
    orders of as many customers, listing the last `orders`."""
    api = server.client
    for i in range(orders):
        token = await make_customer(server, f"buyer-{orders}-{i}@example.com")
        await paid(server, shop, ("sock-3", 1), ("tote-red", 1), token=token)
    await _warm(api)
    today = server.clock().date().isoformat()
    report = await api.query(SALES_REPORT, {"from": today, "to": today}, token=shop.staff)
    assert report.data["salesReport"]["orderCount"] == before + orders
    listed = await api.op("AdminOrders", {"first": orders}, token=shop.staff)
    assert len(listed.data["orders"]["edges"]) == orders
    found = await api.query(CUSTOMERS, {"first": orders, "search": f"buyer-{orders}-"},
                            token=shop.staff)  # fmt: skip
    assert [e["node"]["orderCount"] for e in found.data["customers"]["edges"]] == [1] * orders
    return {
        "SalesReport": report.statements,
        "AdminOrders": listed.statements,
        "Customers": found.statements,
    }


async def test_back_office_statements_do_not_grow_with_orders_or_customers(
    server: Server, shop: Shop
) -> None:
    one = await _back_office_statements(server, shop, 1)
    five = await _back_office_statements(server, shop, 5, before=1)
    assert one == five
    assert five == BACK_OFFICE_STATEMENTS


# --- logistics: parcels and carrier events --------------------------------------------------


async def _shipping_statements(
    server: Server, shop: Shop, skus: Sequence[str], parcels: int
) -> dict[str, int]:
    """Statements of ShipmentCreate sending a unit of every line from where checkout took it
    (`parcels` times) and from another warehouse, of a carrier event, and of OrderDetail
    with every parcel and its events."""
    email = f"ship-{len(skus)}@example.com"
    token = await make_customer(server, email)
    order = await paid(server, shop, *[(sku, parcels + 1) for sku in skus], token=token)
    lines = [(line["id"], 1) for line in (await lines_of(server, order, token))["lines"]]
    await _warm(server.client)
    counts: dict[str, int] = {}
    for parcel in range(parcels):
        counts[
            "ShipmentCreate" if parcel == 0 else "ShipmentCreate (next parcel)"
        ] = await _ship_counted(server, shop, order.id, 0, lines, f"C{len(skus)}-{parcel}")
    counts["ShipmentCreate from elsewhere"] = await _ship_counted(
        server, shop, order.id, 1, lines, f"E{len(skus)}-{parcels}"
    )
    before = server.client.counter.total
    answer = await carrier_says(
        server, carrier_event(f"E{len(skus)}-{parcels}", "IN_TRANSIT", server.clock())
    )
    assert answer.json() == {"status": "applied"}
    counts["carrier event"] = server.client.counter.total - before
    detail = await server.client.op("OrderDetail", {"id": order.id}, token=token)
    assert len(detail.data["order"]["shipments"]) == parcels + 1
    counts["OrderDetail"] = detail.statements
    return counts


async def _ship_counted(
    server: Server, shop: Shop, order_id: str, warehouse: int, lines: list[tuple[str, int]],
    number: str,
) -> int:  # fmt: skip
    result = await server.client.op(
        "ShipmentCreate",
        {"orderId": order_id, "input": {
            "warehouseId": shop.warehouses[warehouse], "carrier": "dhl",
            "trackingNumber": number,
            "lines": [{"orderLineId": i, "quantity": q} for i, q in lines]}},
        token=shop.staff,
    )  # fmt: skip
    assert result.data["shipmentCreate"]["userErrors"] == []
    return result.statements


# Exact, and the same on SQLite and PostgreSQL. ShipmentCreate: lock the order, read the
# warehouse and the lines, write the parcel, the lines' counts, the parcel's lines, the
# order's status (the first parcel: its event tells of the parcel) or an event, the email,
# and read the parcel back;
# from another warehouse, lock the stock rows and write them too (the units back, then
# the units taken). A carrier event: find the parcel,
# lock the order and the parcel, store the event, write the parcel, the order's event and
# count the parcels still on their way. OrderDetail: as above, and one batch each for the
# parcels, their lines and their events.
SHIPPING_STATEMENTS = {
    "ShipmentCreate": 10,
    "ShipmentCreate (next parcel)": 9,
    "ShipmentCreate from elsewhere": 13,
    "carrier event": 6,
    "OrderDetail": 8,
}


async def test_shipping_statements_do_not_grow_with_lines_or_parcels(
    server: Server, shop: Shop
) -> None:
    skus = [sku for sku in REGULAR if sku != "tote-red"]  # in both warehouses
    one = await _shipping_statements(server, shop, skus[:1], 2)
    many = await _shipping_statements(server, shop, skus, 3)
    assert one == many
    assert many == SHIPPING_STATEMENTS
