"""Orders through the HTTP app: the one transition table, cancelling, confirming receipt,
completing by themselves, hiding, a customer's list and a guest's lookup by number."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest

from app.accounts.permissions import Permission
from app.maintenance import run_once
from app.orders.models import OrderStatus
from app.orders.transitions import ALLOWED, EVENT, allows
from tests.conftest import Server, make_customer, make_staff, sign_in
from tests.orders import Placed, detail, gateway_says, gift_card, move, pay, place
from tests.shop import Shop, build_shop, sql
from tests.test_checkout import available, checkout, ready_cart

S = OrderStatus
MY_ORDERS = """
query($first: Int!, $after: String, $since: DateTime) {
  me { orders(first: $first, after: $after, since: $since) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { number status } } } }
}
"""
BY_NUMBER = """
query($n: String!, $e: String!) { orderByNumber(number: $n, email: $e) { id number status } }
"""


@pytest.fixture
async def shop(server: Server) -> Shop:
    return await build_shop(server)


@pytest.fixture
async def customer(server: Server) -> str:
    return await make_customer(server, "dora@example.com")


async def _paid(server: Server, shop: Shop, token: str | None, *lines: tuple[str, int]) -> Placed:
    order = await place(server, shop, *(lines or (("sock-3", 1),)), token=token)
    payload, errors = await pay(server, order, "CARD")
    assert errors == []
    payment = payload["payment"]
    await gateway_says(
        server, "payment.succeeded", payment["providerReference"], payment["amount"]["amount"]
    )
    return order


async def _mutate(
    server: Server, name: str, order: Placed, token: str | None = None, **extra: Any
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    result = await server.client.op(name, {"id": order.id, **extra}, token=token or order.token)
    payload = next(iter(result.data.values()))
    return payload.get("order"), payload["userErrors"]


def test_the_transition_table_is_the_documented_life_of_an_order() -> None:
    forward = [S.UNPAID, S.PAID, S.PARTIALLY_SHIPPED, S.SHIPPED, S.DELIVERED, S.COMPLETED]
    for earlier, later in itertools.pairwise(forward):
        assert allows(earlier, later), (earlier, later)
    assert allows(S.PAID, S.SHIPPED)
    assert allows(S.SHIPPED, S.COMPLETED)  # receipt confirmed before the carrier says so
    assert {s for s in S if allows(s, S.CANCELLED)} == {S.UNPAID, S.PAID}
    assert ALLOWED[S.COMPLETED] == ALLOWED[S.CANCELLED] == frozenset()
    # Never backwards, never to the start; every status reached has its event.
    assert not any(allows(s, S.UNPAID) for s in S)
    assert all(not allows(later, earlier) for earlier, later in itertools.pairwise(forward))
    assert set(EVENT) == set(S) - {S.UNPAID}
    assert all(EVENT[s].value == s.value for s in EVENT)


async def test_the_table_refuses_what_it_does_not_allow(
    server: Server, shop: Shop, customer: str
) -> None:
    unpaid = await place(server, shop, ("sock-3", 1), token=customer)
    _, errors = await _mutate(server, "OrderConfirmReceipt", unpaid)
    assert errors == [
        {
            "field": ["id"],
            "message": "the order is unpaid: it cannot be completed",
            "code": "INVALID_STATE",
        }
    ]
    shipped = await _paid(server, shop, customer)
    await move(server, shipped, S.SHIPPED)
    _, errors = await _mutate(server, "OrderCancel", shipped)
    assert [(e["code"], e["message"]) for e in errors] == [
        ("INVALID_STATE", "the order is shipped: it cannot be cancelled")
    ]
    cancelled, errors = await _mutate(server, "OrderCancel", unpaid)
    assert errors == []
    assert cancelled is not None
    _, errors = await _mutate(server, "OrderCancel", unpaid)
    assert [e["code"] for e in errors] == ["INVALID_STATE"]
    _, errors = await pay(server, unpaid, "CARD")
    assert [e["code"] for e in errors] == ["INVALID_STATE"]
    # Refused moves changed nothing.
    assert (await detail(server, shipped, customer))["status"] == "SHIPPED"
    assert [e["type"] for e in (await detail(server, unpaid, customer))["events"]] == [
        "PLACED",
        "CANCELLED",
    ]


async def test_cancelling_an_unpaid_order_gives_its_stock_and_coupon_back(
    server: Server, shop: Shop, customer: str
) -> None:
    await shop.promotion(
        name="Once", kind="FIXED_AMOUNT", value="1.00", couponCode="ONCE", usageLimit=1
    )
    api = server.client
    cart_id = await ready_cart(api, shop, ("runner-43", 2), token=customer, coupon="ONCE")
    placed, _ = await checkout(api, cart_id, token=customer)
    assert placed is not None
    order = Placed(placed["id"], placed["number"], placed["total"]["amount"], customer)
    assert await available(api, shop, "runner-43") == 0
    cancelled, errors = await _mutate(server, "OrderCancel", order, reason="too slow")
    assert errors == []
    assert cancelled == {"id": order.id, "status": "CANCELLED"}
    assert await available(api, shop, "runner-43") == 2
    seen = await detail(server, order, customer)
    assert seen["events"][-1] == {
        "type": "CANCELLED",
        "message": "cancelled: by the customer: too slow",
    }
    assert seen["refunds"] == []
    again = await ready_cart(api, shop, ("sock-3", 1), coupon="ONCE")
    assert (await checkout(api, again))[1] == []


async def test_strangers_cannot_cancel_confirm_or_hide_and_order_staff_can_cancel(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await place(server, shop, ("sock-3", 1), token=customer)
    stranger = await make_customer(server, "eve@example.com")
    for name in ("OrderCancel", "OrderConfirmReceipt", "OrderHide"):
        _, errors = await _mutate(server, name, order, token=stranger)
        assert [(e["code"], e["field"]) for e in errors] == [("NOT_FOUND", ["id"])], name
    clerk = await make_staff(server, "clerk@example.com", frozenset({Permission.MANAGE_ORDERS}))
    cancelled, errors = await _mutate(server, "OrderCancel", order, token=clerk)
    assert errors == []
    assert cancelled is not None
    assert cancelled["status"] == "CANCELLED"
    assert (await detail(server, order, customer))["events"][-1]["message"] == (
        "cancelled: by staff"
    )


async def test_confirming_receipt_completes_the_order_and_earns_points(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await _paid(server, shop, customer, ("runner-42", 1))  # 80.00 + 19 % = 95.20
    await move(server, order, S.SHIPPED)
    completed, errors = await _mutate(server, "OrderConfirmReceipt", order)
    assert errors == []
    assert completed == {"id": order.id, "status": "COMPLETED"}
    me = await server.client.query(
        "{ me { pointsBalance pointsLedger(first: 5) { edges { node { kind points orderNumber"
        " } } } } }",
        token=customer,
    )
    total = int(float(order.total))  # one point per whole currency unit
    assert me.data["me"]["pointsBalance"] == total
    assert [e["node"] for e in me.data["me"]["pointsLedger"]["edges"]] == [
        {"kind": "EARNED", "points": total, "orderNumber": order.number}
    ]
    types = [e["type"] for e in (await detail(server, order, customer))["events"]]
    assert types[-3:] == ["SHIPPED", "COMPLETED", "POINTS_EARNED"]
    _, errors = await _mutate(server, "OrderConfirmReceipt", order)
    assert [e["code"] for e in errors] == ["INVALID_STATE"]


async def test_delivered_orders_complete_by_themselves_after_the_configured_days(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await _paid(server, shop, customer)
    await move(server, order, S.SHIPPED, S.DELIVERED)
    days = server.services.settings.order_auto_complete_days
    server.clock.advance(days=days, seconds=-1)
    assert (await run_once(server.services, server.clock(), purge_carts=False))[
        "orders_completed"
    ] == 0
    server.clock.advance(seconds=1)
    done = await run_once(server.services, server.clock(), purge_carts=False)
    assert done["orders_completed"] == 1
    assert (await run_once(server.services, server.clock(), purge_carts=False))[
        "orders_completed"
    ] == 0
    token = await sign_in(server.client, "dora@example.com")
    seen = await detail(server, order, token)
    assert seen["status"] == "COMPLETED"
    assert seen["events"][-2]["message"] == f"completed: delivered {days} days ago"
    assert (await sql(server, "SELECT kind FROM points_entry")) == [("EARNED",)]


async def test_my_orders_newest_first_in_a_window_paged_and_without_hidden_ones(
    server: Server, shop: Shop, customer: str
) -> None:
    api = server.client
    old = await place(server, shop, ("sock-3", 1), token=customer)
    server.clock.advance(days=100)
    token = await sign_in(api, "dora@example.com")
    recent = []
    for _ in range(3):
        server.clock.advance(minutes=1)
        recent.append(await place(server, shop, ("sock-3", 1), token=token))
    other = await make_customer(server, "fred@example.com")
    await place(server, shop, ("sock-3", 1), token=other)

    first = (await api.query(MY_ORDERS, {"first": 2}, token=token)).data["me"]["orders"]
    assert first["totalCount"] == 3
    assert [e["node"]["number"] for e in first["edges"]] == [recent[2].number, recent[1].number]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (
        await api.query(
            MY_ORDERS, {"first": 2, "after": first["pageInfo"]["endCursor"]}, token=token
        )
    ).data["me"]["orders"]
    assert [e["node"]["number"] for e in rest["edges"]] == [recent[0].number]
    assert rest["pageInfo"]["hasNextPage"] is False
    # The contract's own query, and older orders when asked for.
    contract = await api.op("MyOrders", {"first": 10}, token=token)
    assert contract.data["me"]["orders"]["totalCount"] == 3
    since = (server.clock.now - timedelta(days=365)).isoformat()
    everything = (await api.query(MY_ORDERS, {"first": 10, "since": since}, token=token)).data
    assert [e["node"]["number"] for e in everything["me"]["orders"]["edges"]][-1] == old.number
    assert everything["me"]["orders"]["totalCount"] == 4

    hidden = await api.op("OrderHide", {"id": recent[1].id}, token=token)
    assert hidden.data["orderHide"]["userErrors"] == []
    again = await api.op("OrderHide", {"id": recent[1].id}, token=token)
    assert again.data["orderHide"]["userErrors"] == []
    listed = (await api.query(MY_ORDERS, {"first": 10}, token=token)).data["me"]["orders"]
    assert [e["node"]["number"] for e in listed["edges"]] == [recent[2].number, recent[0].number]
    assert listed["totalCount"] == 2
    # The order itself and staff keep it; nothing is deleted.
    assert (await detail(server, recent[1], token))["events"][-1]["type"] == "HIDDEN"
    clerk = await make_staff(server, "clerk@example.com", frozenset({Permission.MANAGE_ORDERS}))
    assert (await detail(server, recent[1], clerk))["number"] == recent[1].number
    assert await sql(server, "SELECT count(*) FROM shop_order") == [(5,)]
    # Nobody else's list shows, nor can anyone hide another's order.
    hide = await api.op("OrderHide", {"id": recent[0].id}, token=other)
    assert [e["code"] for e in hide.data["orderHide"]["userErrors"]] == ["NOT_FOUND"]
    bad = await api.query(MY_ORDERS, {"first": 101}, token=token)
    assert bad.error_codes == ["INVALID"]


async def test_a_guest_finds_an_order_by_number_and_email_only(server: Server, shop: Shop) -> None:
    api = server.client
    order = await place(server, shop, ("sock-3", 1), email="Guest.Buyer@example.com")
    found = (await api.query(BY_NUMBER, {"n": order.number, "e": "guest.buyer@EXAMPLE.com"})).data
    assert found["orderByNumber"] == {"id": order.id, "number": order.number, "status": "UNPAID"}
    # Nothing else: the email must be the order's, and order(id:) stays the owner's and
    # staff's (the guest has what orderByNumber gave).
    assert (await api.query(BY_NUMBER, {"n": order.number, "e": "other@example.com"})).data[
        "orderByNumber"
    ] is None
    assert (await api.query(BY_NUMBER, {"n": "99999999", "e": "guest.buyer@example.com"})).data[
        "orderByNumber"
    ] is None
    assert (await api.query(BY_NUMBER, {"n": "x1", "e": "a@b.co"})).data["orderByNumber"] is None
    assert (await detail(server, order, None)) is None
    # Guessing is limited: after as many misses as failed sign-ins may have (three so
    # far), even a right guess is refused for a while.
    limit = server.services.settings.login_max_failures
    for _ in range(limit - 3):
        await api.query(BY_NUMBER, {"n": order.number, "e": "nope@example.com"})
    refused = await api.query(BY_NUMBER, {"n": order.number, "e": "guest.buyer@example.com"})
    assert refused.error_codes == ["TOO_MANY_REQUESTS"]


async def test_order_detail_is_for_the_owner_and_order_staff(
    server: Server, shop: Shop, customer: str
) -> None:
    api = server.client
    order = await place(server, shop, ("runner-42", 1), ("sock-3", 2), token=customer)
    card = await gift_card(shop, "10.00")
    await pay(server, order, "GIFT_CARD", giftCardCode=card["code"])
    mine = (await api.op("OrderDetail", {"id": order.id}, token=customer)).data["order"]
    assert mine["status"] == "UNPAID"
    assert [(line["sku"], line["quantity"]) for line in mine["lines"]] == [
        ("runner-42", 1),
        ("sock-3", 2),
    ]
    assert {(line["quantityShipped"], line["quantityRefunded"]) for line in mine["lines"]} == {
        (0, 0)
    }
    assert mine["shipments"] == []
    assert mine["refunds"] == []
    assert mine["totalRefunded"] == {"amount": "0.00", "currency": "USD"}
    assert mine["amountDue"]["amount"] == str(round(float(order.total) - 10, 2))
    assert mine["shippingAddress"]["city"] == "Berlin"
    assert [p["method"] for p in mine["payments"]] == ["GIFT_CARD"]
    assert [e["type"] for e in mine["events"]] == ["PLACED", "PAYMENT_RECEIVED"]
    clerk = await make_staff(server, "clerk@example.com", frozenset({Permission.MANAGE_ORDERS}))
    assert (await api.op("OrderDetail", {"id": order.id}, token=clerk)).data["order"] == mine
    catalog = await make_staff(server, "cat@example.com", frozenset({Permission.MANAGE_PRODUCTS}))
    stranger = await make_customer(server, "eve@example.com")
    for token in (catalog, stranger, None):
        assert (await api.op("OrderDetail", {"id": order.id}, token=token)).data["order"] is None


async def test_an_order_with_nothing_to_pay_is_paid_when_placed(
    server: Server, shop: Shop, customer: str
) -> None:
    await shop.promotion(name="All free", kind="PERCENTAGE", value="100", couponCode="FREE")
    await shop.promotion(name="Free shipping", kind="FREE_SHIPPING", couponCode="SHIPFREE")
    api = server.client
    cart_id = await ready_cart(api, shop, ("sock-3", 1), token=customer, coupon="FREE")
    await api.op("CartCouponApply", {"cartId": cart_id, "code": "SHIPFREE"}, token=customer)
    placed, errors = await checkout(api, cart_id, token=customer)
    assert errors == []
    assert placed is not None
    assert (placed["status"], placed["total"]["amount"]) == ("PAID", "0.00")
    order = Placed(placed["id"], placed["number"], "0.00", customer)
    assert [e["type"] for e in (await detail(server, order, customer))["events"]] == [
        "PLACED",
        "PAID",
    ]
