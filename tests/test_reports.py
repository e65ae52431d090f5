"""The back office's figures through the API: the sales report (which orders count, UTC
days, revenue net of refunds, best sellers), every order listed and filtered, and
customers found by email or name with their order figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from app.accounts.permissions import Permission
from app.orders.models import OrderStatus
from tests.conftest import PASSWORD, Server, make_staff, sign_in
from tests.orders import Placed, lines_of, move, paid, place, refund
from tests.shop import Shop, build_shop

S = OrderStatus
REPORT = """
query($from: Date!, $to: Date!, $first: Int!) { salesReport(from: $from, to: $to) {
  from to orderCount revenue { amount } averageOrderValue { amount }
  days { date orderCount revenue { amount } }
  topProducts(first: $first) { productName quantity revenue { amount } }
} }
"""
CUSTOMERS = """
query($first: Int!, $search: String, $after: String) {
  customers(first: $first, search: $search, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { email firstName lastName orderCount totalSpent { amount } } }
  }
}
"""


def cents(amount: str) -> int:
    return int(Decimal(amount) * 100)


def money(minor: int) -> str:
    return str(Decimal(minor).scaleb(-2))


async def register(server: Server, email: str, first: str, last: str) -> str:
    result = await server.client.op(
        "AccountRegister",
        {"input": {"email": email, "password": PASSWORD, "firstName": first, "lastName": last}},
    )
    payload = result.data["accountRegister"]
    assert payload["userErrors"] == [], payload
    return str(payload["token"]["accessToken"])


@dataclass
class Month:
    """Orders over four days of March 2026 (UTC), with who placed them."""

    shop: Shop
    alice: str
    bob: str
    first: Placed  # Mar 1, 23:50: Alice, 2 socks, paid
    guest: Placed  # Mar 1: a guest's, never paid
    second: Placed  # Mar 2, 00:10: Bob, a runner and a sock, paid, the sock refunded
    cancelled: Placed  # Mar 2: Alice, a tote, paid and cancelled
    fourth: Placed  # Mar 4: Alice, 5 socks, paid and shipped
    refunded: int  # what the sock of the second order gave back


async def _again(server: Server, shop: Shop) -> tuple[str, str]:
    """Tokens run out as the clock moves on days: sign in again."""
    shop.staff = await sign_in(server.client, "shopkeeper@example.com")
    shop.api.token = None
    return (
        await sign_in(server.client, "alice@example.com"),
        await sign_in(server.client, "bob@example.com"),
    )


async def month(server: Server) -> Month:
    server.clock.now = datetime(2026, 3, 1, 23, 50, tzinfo=UTC)
    shop = await build_shop(server)
    alice = await register(server, "alice@example.com", "Alice", "Lovelace")
    bob = await register(server, "bob@example.com", "Bob", "Babbage")
    await register(server, "carol@example.com", "Carol", "Shaw")
    first = await paid(server, shop, ("sock-3", 2), token=alice)
    guest = await place(server, shop, ("tote-red", 1), email="guest@example.com")

    server.clock.now = datetime(2026, 3, 2, 0, 10, tzinfo=UTC)
    alice, bob = await _again(server, shop)
    second = await paid(server, shop, ("runner-42", 1), ("sock-3", 1), token=bob)
    sock = (await lines_of(server, second, bob))["by_sku"]["sock-3"]
    given = await refund(server, shop, second, [(sock["id"], 1)])
    assert given["userErrors"] == []
    cancelled = await paid(server, shop, ("tote-red", 1), token=alice)
    answer = await server.client.op("OrderCancel", {"id": cancelled.id}, token=alice)
    assert answer.data["orderCancel"]["userErrors"] == []

    server.clock.now = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
    alice, bob = await _again(server, shop)
    fourth = await paid(server, shop, ("sock-3", 5), token=alice)
    await move(server, fourth, S.SHIPPED)
    # Alice takes the first off her own list: reports and staff still see it.
    hidden = await server.client.op("OrderHide", {"id": first.id}, token=alice)
    assert hidden.data["orderHide"]["userErrors"] == []
    return Month(
        shop, alice, bob, first, guest, second, cancelled, fourth,
        cents(given["refund"]["amount"]["amount"]),
    )  # fmt: skip


@pytest.fixture
async def march(server: Server) -> Month:
    return await month(server)


async def test_the_sales_report_counts_paid_orders_by_utc_day_net_of_refunds(
    server: Server, march: Month
) -> None:
    staff = march.shop.staff
    report = await server.client.query(
        REPORT, {"from": "2026-03-01", "to": "2026-03-04", "first": 5}, token=staff
    )
    seen = report.data["salesReport"]
    counted = [march.first, march.second, march.fourth]
    revenue = sum(cents(o.total) for o in counted) - march.refunded
    assert (seen["from"], seen["to"]) == ("2026-03-01", "2026-03-04")
    assert seen["orderCount"] == 3
    assert cents(seen["revenue"]["amount"]) == revenue
    assert seen["averageOrderValue"]["amount"] == money((2 * revenue + 3) // 6)  # half up
    assert [(d["date"], d["orderCount"], cents(d["revenue"]["amount"])) for d in seen["days"]] == [
        ("2026-03-01", 1, cents(march.first.total)),
        ("2026-03-02", 1, cents(march.second.total) - march.refunded),
        ("2026-03-03", 0, 0),
        ("2026-03-04", 1, cents(march.fourth.total)),
    ]
    # Best sellers by revenue, net of the refunded sock; the cancelled tote does not count.
    top = seen["topProducts"]
    assert [(p["productName"], p["quantity"]) for p in top] == [("Runner", 1), ("Sock", 7)]
    expected = 0
    for order, token in ((march.first, march.alice), (march.second, march.bob),
                         (march.fourth, march.alice)):  # fmt: skip
        lines = (await lines_of(server, order, token))["lines"]
        expected += sum(
            cents(line["total"]["amount"]) - cents(line["amountRefunded"]["amount"])
            for line in lines
        )
    assert sum(cents(p["revenue"]["amount"]) for p in top) == expected

    one_day = await server.client.query(
        REPORT, {"from": "2026-03-02", "to": "2026-03-02", "first": 1}, token=staff
    )
    day = one_day.data["salesReport"]
    assert (day["orderCount"], len(day["days"]), len(day["topProducts"])) == (1, 1, 1)
    empty = await server.client.query(
        REPORT, {"from": "2026-02-01", "to": "2026-02-28", "first": 5}, token=staff
    )
    nothing = empty.data["salesReport"]
    assert (nothing["orderCount"], nothing["revenue"]["amount"]) == (0, "0.00")
    assert nothing["averageOrderValue"]["amount"] == "0.00"
    assert len(nothing["days"]) == 28
    assert nothing["topProducts"] == []


async def test_the_sales_report_refuses_ranges_it_does_not_serve(
    server: Server, march: Month
) -> None:
    staff = march.shop.staff
    backwards = await server.client.query(
        REPORT, {"from": "2026-03-04", "to": "2026-03-01", "first": 5}, token=staff
    )
    assert backwards.error_codes == ["INVALID"]
    too_long = await server.client.query(
        REPORT, {"from": "2025-01-01", "to": "2026-03-01", "first": 5}, token=staff
    )
    assert too_long.error_codes == ["INVALID"]
    too_many = await server.client.query(
        REPORT, {"from": "2026-03-01", "to": "2026-03-01", "first": 101}, token=staff
    )
    assert too_many.error_codes == ["INVALID"]
    malformed = await server.client.query(
        REPORT, {"from": "March 1st", "to": "2026-03-01", "first": 5}, token=staff
    )
    assert malformed.errors
    customer = await server.client.query(
        REPORT, {"from": "2026-03-01", "to": "2026-03-01", "first": 5}, token=march.alice
    )
    assert customer.error_codes == ["PERMISSION_DENIED"]


def _numbers(result: Any) -> list[str]:
    return [e["node"]["number"] for e in result.data["orders"]["edges"]]


async def test_staff_list_every_order_newest_first_with_filters(
    server: Server, march: Month
) -> None:
    staff = march.shop.staff
    everything = [march.fourth, march.cancelled, march.second, march.guest, march.first]
    seen: list[str] = []
    after = None
    while True:
        page = await server.client.op("AdminOrders", {"first": 2, "after": after}, token=staff)
        orders = page.data["orders"]
        assert orders["totalCount"] == 5
        seen.extend(_numbers(page))
        if not orders["pageInfo"]["hasNextPage"]:
            break
        after = orders["pageInfo"]["endCursor"]
    # Newest first; the order Alice hid is listed for staff.
    assert seen == [o.number for o in everything]

    def listed(**condition: Any) -> Any:
        return server.client.op("AdminOrders", {"first": 10, "filter": condition}, token=staff)

    paid_only = await listed(status="PAID")
    assert _numbers(paid_only) == [march.second.number, march.first.number]
    assert paid_only.data["orders"]["totalCount"] == 2
    alices = await listed(email="ALICE@example.com")
    assert _numbers(alices) == [march.fourth.number, march.cancelled.number, march.first.number]
    second_day = await listed(placedFrom="2026-03-02T00:00:00Z", placedTo="2026-03-03T00:00:00Z")
    assert _numbers(second_day) == [march.cancelled.number, march.second.number]
    both = await listed(email="alice@example.com", status="CANCELLED")
    (node,) = [e["node"] for e in both.data["orders"]["edges"]]
    assert (node["number"], node["status"], node["email"]) == (
        march.cancelled.number, "CANCELLED", "alice@example.com",
    )  # fmt: skip
    assert node["total"]["amount"] == march.cancelled.total

    refused = await server.client.op("AdminOrders", {"first": 10}, token=march.alice)
    assert refused.error_codes == ["PERMISSION_DENIED"]
    clerk = await make_staff(server, "c@example.com", frozenset({Permission.MANAGE_CUSTOMERS}))
    assert (await server.client.op("AdminOrders", {"first": 1}, token=clerk)).error_codes == [
        "PERMISSION_DENIED"
    ]
    too_many = await server.client.op("AdminOrders", {"first": 101}, token=staff)
    assert too_many.error_codes == ["INVALID"]


async def test_customers_are_found_by_email_or_name_with_their_order_figures(
    server: Server, march: Month
) -> None:
    staff = march.shop.staff

    async def found(search: str | None, first: int = 10) -> dict[str, Any]:
        result = await server.client.query(
            CUSTOMERS, {"first": first, "search": search}, token=staff
        )
        return result.data["customers"]  # type: ignore[no-any-return]

    everyone = await found(None)
    assert everyone["totalCount"] == 3  # staff accounts are not customers
    assert [e["node"]["email"] for e in everyone["edges"]] == [
        "carol@example.com", "bob@example.com", "alice@example.com",
    ]  # fmt: skip
    figures = {e["node"]["email"]: e["node"] for e in everyone["edges"]}
    alice, bob, carol = (figures[f"{n}@example.com"] for n in ("alice", "bob", "carol"))
    assert alice["orderCount"] == 3  # the cancelled one too
    assert cents(alice["totalSpent"]["amount"]) == cents(march.first.total) + cents(
        march.fourth.total
    )
    assert bob["orderCount"] == 1
    assert cents(bob["totalSpent"]["amount"]) == cents(march.second.total) - march.refunded
    assert (carol["orderCount"], carol["totalSpent"]["amount"]) == (0, "0.00")

    assert [e["node"]["email"] for e in (await found("ALICE"))["edges"]] == ["alice@example.com"]
    assert [e["node"]["lastName"] for e in (await found("bab"))["edges"]] == ["Babbage"]
    assert [e["node"]["email"] for e in (await found("  carol   shaw "))["edges"]] == [
        "carol@example.com"
    ]
    assert (await found("100%"))["totalCount"] == 0  # a wildcard is just a character
    assert (await found("_"))["totalCount"] == 0
    page = await found(None, first=2)
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await server.client.query(
        CUSTOMERS, {"first": 2, "after": page["pageInfo"]["endCursor"]}, token=staff
    )
    assert [e["node"]["email"] for e in rest.data["customers"]["edges"]] == ["alice@example.com"]

    manager = await make_staff(server, "o@example.com", frozenset({Permission.MANAGE_ORDERS}))
    for token in (manager, march.alice):
        refused = await server.client.query(CUSTOMERS, {"first": 1}, token=token)
        assert refused.error_codes == ["PERMISSION_DENIED"]
    # A customer sees their own figures, nobody else's.
    mine = await server.client.query("{ me { orderCount totalSpent { amount } } }", token=march.bob)
    assert mine.data["me"]["orderCount"] == 1
