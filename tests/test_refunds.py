"""Refunds through the API: staff give back units of lines and the shipping, each unit
what it cost, split over the tenders that paid (points, then gift cards, then the
card through the gateway); never more than was paid, per line and per order, even
with refunds racing; cancellation after line refunds; points earned taken back."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal
from typing import Any

import pytest

from app.accounts.permissions import Permission
from app.orders.models import OrderStatus
from app.payments.arithmetic import LineCost, units_refund
from tests.conftest import Server, make_customer, make_staff
from tests.orders import (
    card_balance,
    gateway_says,
    lines_of,
    move,
    paid,
    pay,
    place,
    refund,
)
from tests.shop import Shop, build_shop, sql
from tests.test_checkout import available

S = OrderStatus


@pytest.fixture
async def shop(server: Server) -> Shop:
    return await build_shop(server)


@pytest.fixture
async def customer(server: Server) -> str:
    return await make_customer(server, "refunds@example.com")


def cents(amount: str) -> int:
    return int(Decimal(amount) * 100)


def cost(line: dict[str, Any]) -> LineCost:
    return LineCost(
        line["quantity"],
        cents(line["unitPrice"]["amount"]),
        cents(line["discountAllocated"]["amount"]),
        cents(line["tax"]["amount"]),
    )


async def points_of(server: Server, token: str) -> int:
    return int((await server.client.query("{ me { pointsBalance } }", token=token)).data["me"][
        "pointsBalance"
    ])  # fmt: skip


async def test_a_refund_goes_back_to_points_then_the_gift_card_then_the_card(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await paid(
        server, shop, ("sock-3", 3), ("runner-42", 1), token=customer,
        points_amount="3.00", gift_amount="20.00",
    )  # fmt: skip
    before = await lines_of(server, order, customer)
    assert before["status"] == "PAID"
    points_before = await points_of(server, customer)
    sock, runner = before["by_sku"]["sock-3"], before["by_sku"]["runner-42"]
    assert await available(server.client, shop, "sock-3") == 97

    # One sock: what it cost (3.33 and its share of the line's tax), points first.
    first = await refund(server, shop, order, [(sock["id"], 1)], reason="torn")
    assert first["userErrors"] == []
    sock_unit = units_refund(cost(sock), 0, 1).amount
    assert cents(first["refund"]["amount"]["amount"]) == sock_unit
    split = [(a["method"], cents(a["amount"]["amount"])) for a in first["refund"]["allocations"]]
    assert split == [("GIFT_CARD", sock_unit - 300), ("POINTS", 300)]
    assert cents(first["order"]["totalRefunded"]["amount"]) == sock_unit
    assert first["order"]["status"] == "PAID"
    # The points that paid come back as points; nothing shipped, so the sock is back too.
    assert await points_of(server, customer) == points_before + 300
    assert await available(server.client, shop, "sock-3") == 98

    # The runner: what is left of the gift card, then the card, through the gateway.
    second = await refund(server, shop, order, [(runner["id"], 1)])
    assert second["userErrors"] == []
    runner_cost = cents(runner["total"]["amount"])
    gift_left = 2000 - (sock_unit - 300)
    split = [(a["method"], cents(a["amount"]["amount"])) for a in second["refund"]["allocations"]]
    assert split == [("GIFT_CARD", gift_left), ("CARD", runner_cost - gift_left)]
    seen = await lines_of(server, order, customer)
    assert [a["status"] for a in seen["refunds"][1]["allocations"]] == ["SUCCEEDED", "PENDING"]
    assert seen["by_sku"]["sock-3"]["quantityRefunded"] == 1
    assert seen["by_sku"]["runner-42"]["quantityRefunded"] == 1
    assert seen["by_sku"]["runner-42"]["amountRefunded"] == runner["total"]
    assert [r["kind"] for r in seen["refunds"]] == ["LINES", "LINES"]
    amount = first["refund"]["amount"]
    assert seen["refunds"][0]["lines"] == [
        {"orderLineId": sock["id"], "quantity": 1, "amount": {"amount": amount["amount"]}}
    ]
    assert seen["refunds"][1]["status"] == "PENDING"
    # The gateway confirms the card's part.
    (reference,) = await sql(server, "SELECT provider_reference FROM payment WHERE method = 'CARD'")
    done = await gateway_says(
        server, "refund.succeeded", reference[0], str(Decimal(runner_cost - gift_left) / 100)
    )
    assert done.json()["status"] == "processed"
    assert (await lines_of(server, order, customer))["refunds"][1]["status"] == "SUCCEEDED"


async def test_refunding_everything_in_random_parts_returns_the_total_to_the_cent(
    server: Server, shop: Shop, customer: str
) -> None:
    """The property tests' rule, through the API, on both databases."""
    order = await paid(
        server, shop, ("sock-3", 7), ("tote-red", 2), ("runner-42", 1), token=customer,
        points_amount="4.07", gift_amount="33.33",
    )  # fmt: skip
    seen = await lines_of(server, order, customer)
    total = cents(seen["total"]["amount"])
    payments = (
        await server.client.query(
            "query($id: ID!) { order(id: $id) { payments { method status amount { amount } } } }",
            {"id": order.id},
            token=customer,
        )
    ).data["order"]["payments"]
    paid_by = {p["method"]: cents(p["amount"]["amount"]) for p in payments}
    assert sum(paid_by.values()) == total

    rng = random.Random(20261129)
    left = {line["id"]: line["quantity"] for line in seen["lines"]}
    shipping_left = cents(seen["shippingTotal"]["amount"]) > 0
    given_back = 0
    while any(left.values()) or shipping_left:
        chosen = [i for i, n in left.items() if n and rng.random() < 0.6]
        units = [(i, rng.randint(1, left[i])) for i in chosen]
        shipping = shipping_left and rng.random() < 0.3
        if not units and not shipping:
            continue
        payload = await refund(server, shop, order, units, include_shipping=shipping)
        assert payload["userErrors"] == []
        for i, n in units:
            left[i] -= n
        shipping_left &= not shipping
        given_back += cents(payload["refund"]["amount"]["amount"])
        assert given_back == cents(payload["order"]["totalRefunded"]["amount"]) <= total

    seen = await lines_of(server, order, customer)
    assert given_back == total
    assert seen["totalRefunded"]["amount"] == seen["total"]["amount"]
    assert all(line["amountRefunded"] == line["total"] for line in seen["lines"])
    back: dict[str, int] = {}
    for r in seen["refunds"]:
        for a in r["allocations"]:
            back[a["method"]] = back.get(a["method"], 0) + cents(a["amount"]["amount"])
    assert back == paid_by  # every tender exactly what it paid
    # Nothing is left to give back.
    line = seen["lines"][0]["id"]
    again = await refund(server, shop, order, [(line, 1)])
    assert [(e["code"], e["field"]) for e in again["userErrors"]] == [
        ("AMOUNT_EXCEEDED", ["input", "lines", "0", "quantity"])
    ]
    shipping_again = await refund(server, shop, order, include_shipping=True)
    assert [e["code"] for e in shipping_again["userErrors"]] == ["AMOUNT_EXCEEDED"]
    stored = await sql(server, "SELECT sum(refunded), sum(amount) FROM payment")
    assert stored == [(total, total)]


async def test_what_cannot_be_refunded_is_a_user_error_that_changes_nothing(
    server: Server, shop: Shop, customer: str
) -> None:
    unpaid = await place(server, shop, ("sock-3", 2), token=customer)
    order = await paid(server, shop, ("sock-3", 2), token=customer)
    other = await paid(server, shop, ("tote-red", 1), token=customer)
    seen = await lines_of(server, order, customer)
    sock = seen["by_sku"]["sock-3"]["id"]
    foreign = (await lines_of(server, other, customer))["lines"][0]["id"]

    def codes(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
        return [(e["code"], e["field"]) for e in payload["userErrors"]]

    assert codes(await refund(server, shop, order, [(sock, 1)], token=customer)) == [
        ("PERMISSION_DENIED", None)
    ]
    clerk = await make_staff(server, "clerk@example.com", frozenset({Permission.MANAGE_PRODUCTS}))
    assert [c for c, _ in codes(await refund(server, shop, order, [(sock, 1)], token=clerk))] == [
        "PERMISSION_DENIED"
    ]
    unpaid_line = (await lines_of(server, unpaid, customer))["lines"][0]["id"]
    assert codes(await refund(server, shop, unpaid, [(unpaid_line, 1)])) == [
        ("INVALID_STATE", ["orderId"])
    ]
    assert codes(await refund(server, shop, order, [(sock, 3)])) == [
        ("AMOUNT_EXCEEDED", ["input", "lines", "0", "quantity"])
    ]
    assert codes(await refund(server, shop, order, [(sock, 1), (sock, 2)])) == [
        ("AMOUNT_EXCEEDED", ["input", "lines", "1", "quantity"])
    ]
    assert codes(await refund(server, shop, order, [(foreign, 1)])) == [
        ("NOT_FOUND", ["input", "lines", "0", "orderLineId"])
    ]
    assert codes(await refund(server, shop, order, [(sock, 0)])) == [
        ("INVALID", ["input", "lines", "0", "quantity"])
    ]
    assert codes(await refund(server, shop, order, [("not-an-id", 1)])) == [
        ("NOT_FOUND", ["input", "lines", "0", "orderLineId"])
    ]
    assert codes(await refund(server, shop, order)) == [("REQUIRED", ["input", "lines"])]
    assert codes(await refund(server, shop, order, [(sock, 1)], reason="x" * 2001)) == [
        ("INVALID", ["input", "reason"])
    ]
    after = await lines_of(server, order, customer)
    assert after["refunds"] == []
    assert after["totalRefunded"]["amount"] == "0.00"
    # Cancelled orders gave everything back already.
    cancelled = await server.client.op("OrderCancel", {"id": order.id}, token=customer)
    assert cancelled.data["orderCancel"]["userErrors"] == []
    assert codes(await refund(server, shop, order, [(sock, 1)])) == [("INVALID_STATE", ["orderId"])]


async def test_cancelling_after_a_line_refund_gives_back_the_rest_once(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await paid(server, shop, ("sock-3", 3), ("tote-red", 1), token=customer,
                       gift_amount="5.00")  # fmt: skip
    seen = await lines_of(server, order, customer)
    total = cents(seen["total"]["amount"])
    sock = seen["by_sku"]["sock-3"]
    first = await refund(server, shop, order, [(sock["id"], 2)], include_shipping=True)
    assert first["userErrors"] == []
    part = cents(first["refund"]["amount"]["amount"])
    assert await available(server.client, shop, "sock-3") == 99  # 2 of 3 back already

    cancelled = await server.client.op("OrderCancel", {"id": order.id}, token=customer)
    assert cancelled.data["orderCancel"]["userErrors"] == []
    seen = await lines_of(server, order, customer)
    assert seen["status"] == "CANCELLED"
    assert cents(seen["totalRefunded"]["amount"]) == total
    assert [(r["kind"], cents(r["amount"]["amount"])) for r in seen["refunds"]] == [
        ("LINES", part), ("CANCELLATION", total - part),
    ]  # fmt: skip
    assert all(line["quantityRefunded"] == line["quantity"] for line in seen["lines"])
    assert all(line["amountRefunded"] == line["total"] for line in seen["lines"])
    # Every unit back on the shelves exactly once.
    assert await available(server.client, shop, "sock-3") == 100
    assert await available(server.client, shop, "tote-red") == 10
    stored = await sql(server, "SELECT sum(refunded) = sum(amount) FROM payment")
    assert stored == [(True,)] or stored == [(1,)]


async def test_units_refunded_after_shipping_stay_with_the_customer(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await paid(server, shop, ("sock-3", 2), token=customer)
    await move(server, order, S.SHIPPED)
    sock = (await lines_of(server, order, customer))["by_sku"]["sock-3"]
    payload = await refund(server, shop, order, [(sock["id"], 1)], reason="arrived late")
    assert payload["userErrors"] == []
    assert payload["order"]["status"] == "SHIPPED"
    assert await available(server.client, shop, "sock-3") == 98


async def test_ten_concurrent_refunds_of_one_line_never_exceed_what_was_paid(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await paid(server, shop, ("sock-3", 3), token=customer, gift_amount="4.00")
    await move(server, order, S.SHIPPED)  # no restocking: only the money races
    seen = await lines_of(server, order, customer)
    sock = seen["by_sku"]["sock-3"]

    results = await asyncio.gather(
        *(refund(server, shop, order, [(sock["id"], 1)]) for _ in range(10))
    )
    done = [r for r in results if not r["userErrors"]]
    refused = [r["userErrors"][0]["code"] for r in results if r["userErrors"]]
    assert len(done) == 3
    assert refused == ["AMOUNT_EXCEEDED"] * 7
    given = sum(cents(r["refund"]["amount"]["amount"]) for r in done)
    assert given == cents(sock["total"]["amount"])
    after = await lines_of(server, order, customer)
    assert after["by_sku"]["sock-3"]["quantityRefunded"] == 3
    assert after["totalRefunded"]["amount"] == sock["total"]["amount"]
    stored = await sql(server, "SELECT refunded, amount FROM payment ORDER BY id")
    assert all(refunded <= amount for refunded, amount in stored)
    assert sum(refunded for refunded, _ in stored) == given
    assert await card_balance(server, (await gift_card_code(server))) == 400


async def gift_card_code(server: Server) -> str:
    (row,) = await sql(server, "SELECT code FROM gift_card")
    return str(row[0])


async def test_ten_concurrent_refunds_of_everything_left_give_it_back_once(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await paid(server, shop, ("sock-3", 2), ("tote-red", 1), token=customer)
    seen = await lines_of(server, order, customer)
    everything = [(line["id"], line["quantity"]) for line in seen["lines"]]
    results = await asyncio.gather(
        *(refund(server, shop, order, everything, include_shipping=True) for _ in range(10))
    )
    assert sum(not r["userErrors"] for r in results) == 1
    after = await lines_of(server, order, customer)
    assert after["totalRefunded"]["amount"] == after["total"]["amount"]
    assert await available(server.client, shop, "sock-3") == 100


async def test_points_earned_on_a_refunded_order_are_taken_back_within_the_balance(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await paid(server, shop, ("runner-42", 1), ("sock-3", 2), token=customer)
    await move(server, order, S.SHIPPED)
    confirmed = await server.client.op("OrderConfirmReceipt", {"id": order.id}, token=customer)
    assert confirmed.data["orderConfirmReceipt"]["order"]["status"] == "COMPLETED"
    seen = await lines_of(server, order, customer)
    total = cents(seen["total"]["amount"])
    earned = total // 100  # 1 point per unit of currency
    assert await points_of(server, customer) == earned

    runner = seen["by_sku"]["runner-42"]
    first = await refund(server, shop, order, [(runner["id"], 1)])
    assert first["userErrors"] == []
    refunded = cents(first["refund"]["amount"]["amount"])
    kept = -(-earned * (total - refunded) // total)  # what is kept is rounded up
    assert await points_of(server, customer) == kept
    ledger = await server.client.query(
        "{ me { pointsLedger(first: 5) { edges { node { kind points orderNumber } } } } }",
        token=customer,
    )
    entries = [e["node"] for e in ledger.data["me"]["pointsLedger"]["edges"]]
    assert entries[0] == {"kind": "REVOKED", "points": kept - earned, "orderNumber": order.number}

    # The customer spends most of what is left; the rest of the refund takes what remains.
    other = await place(server, shop, ("tote-red", 1), token=customer)
    spend = Decimal(kept - 3) / 100
    assert (await pay(server, other, "POINTS", amount=str(spend)))[1] == []
    sock = seen["by_sku"]["sock-3"]
    second = await refund(server, shop, order, [(sock["id"], 2)], include_shipping=True)
    assert second["userErrors"] == []
    assert await points_of(server, customer) == 0
    events = [e["type"] for e in (await lines_of(server, order, customer))["events"]]
    assert events.count("POINTS_REVOKED") == 2


async def test_only_order_staff_see_refund_controls_but_customers_see_their_refunds(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await paid(server, shop, ("sock-3", 1), token=customer)
    sock = (await lines_of(server, order, customer))["lines"][0]["id"]
    manager = await make_staff(server, "orders@example.com", frozenset({Permission.MANAGE_ORDERS}))
    payload = await refund(server, shop, order, [(sock, 1)], token=manager)
    assert payload["userErrors"] == []
    stranger = await make_customer(server, "someone@example.com")
    hidden = await server.client.query(
        "query($id: ID!) { node(id: $id) { id } }", {"id": payload["refund"]["id"]}, token=stranger
    )
    assert hidden.data["node"] is None
    mine = await lines_of(server, order, customer)
    assert mine["refunds"][0]["lines"][0]["orderLineId"] == sock
