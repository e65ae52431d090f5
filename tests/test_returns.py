"""Returns through the API: a customer asks to send back units of a delivered order
within the return window, with a reason; staff approve (refunded, undamaged units back
on the shelves) or reject with a reason the customer is told."""

from __future__ import annotations

from typing import Any

import pytest

from app.accounts.permissions import Permission
from app.orders.models import OrderStatus
from tests.conftest import Server, make_customer, make_staff, sign_in
from tests.orders import Placed, lines_of, move, paid
from tests.shop import Shop, build_shop, sql
from tests.test_checkout import available

S = OrderStatus

APPROVE = """
mutation($id: ID!, $damaged: [ReturnLineInput!], $note: String) {
  returnRequestApprove(id: $id, damaged: $damaged, note: $note) {
    returnRequest { id status note decidedAt lines { orderLineId quantity damaged }
                    refund { kind amount { amount } } }
    userErrors { field message code }
  }
}
"""
LOOKUP = "query($id: ID!) { node(id: $id) { ... on ReturnRequest { id status reason } } }"


@pytest.fixture
async def shop(server: Server) -> Shop:
    return await build_shop(server)


@pytest.fixture
async def customer(server: Server) -> str:
    return await make_customer(server, "returns@example.com")


async def delivered(server: Server, shop: Shop, token: str, *lines: tuple[str, int]) -> Placed:
    order = await paid(server, shop, *lines, token=token)
    await move(server, order, S.SHIPPED, S.DELIVERED)
    return order


async def ask(
    server: Server, order: Placed, lines: list[tuple[str, int]], reason: str, token: str | None
) -> dict[str, Any]:
    result = await server.client.op(
        "ReturnRequestCreate",
        {
            "orderId": order.id,
            "lines": [{"orderLineId": i, "quantity": q} for i, q in lines],
            "reason": reason,
        },
        token=token,
    )
    return result.data["returnRequestCreate"]  # type: ignore[no-any-return]


def codes(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


async def test_an_approved_return_is_refunded_and_its_undamaged_units_restocked(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await delivered(server, shop, customer, ("sock-3", 3), ("tote-red", 1))
    seen = await lines_of(server, order, customer)
    sock, tote = seen["by_sku"]["sock-3"], seen["by_sku"]["tote-red"]
    assert await available(server.client, shop, "sock-3") == 97

    asked = await ask(server, order, [(sock["id"], 2), (tote["id"], 1)], "  too small  ", customer)
    assert asked["userErrors"] == []
    assert asked["returnRequest"]["status"] == "REQUESTED"
    mine = (await lines_of(server, order, customer))["returnRequests"]
    assert [(r["status"], r["reason"]) for r in mine] == [("REQUESTED", "too small")]
    assert sorted((line["orderLineId"], line["quantity"]) for line in mine[0]["lines"]) == sorted(
        [(sock["id"], 2), (tote["id"], 1)]
    )

    # One sock came back torn: refunded all the same, kept off the shelves.
    approved = await server.client.query(
        APPROVE,
        {
            "id": asked["returnRequest"]["id"],
            "damaged": [{"orderLineId": sock["id"], "quantity": 1}],
            "note": "one torn",
        },
        token=shop.staff,
    )
    payload = approved.data["returnRequestApprove"]
    assert payload["userErrors"] == []
    request = payload["returnRequest"]
    assert (request["status"], request["note"]) == ("APPROVED", "one torn")
    assert request["decidedAt"] is not None
    assert {line["orderLineId"]: line["damaged"] for line in request["lines"]} == {
        sock["id"]: 1,
        tote["id"]: 0,
    }
    assert request["refund"]["kind"] == "RETURN"
    after = await lines_of(server, order, customer)
    assert after["by_sku"]["sock-3"]["quantityRefunded"] == 2
    assert after["by_sku"]["tote-red"]["quantityRefunded"] == 1
    assert after["totalRefunded"]["amount"] == request["refund"]["amount"]["amount"]
    assert await available(server.client, shop, "sock-3") == 98  # 1 of 2 back
    assert await available(server.client, shop, "tote-red") == 10
    assert [e["type"] for e in after["events"]][-3:] == [
        "RETURN_REQUESTED", "REFUND_STARTED", "RETURN_APPROVED",
    ]  # fmt: skip
    # Decided once.
    again = await server.client.op(
        "ReturnRequestApprove", {"id": asked["returnRequest"]["id"]}, token=shop.staff
    )
    assert codes(again.data["returnRequestApprove"]) == [("INVALID_STATE", ["id"])]
    # The last unit can still be asked back; nothing more.
    assert codes(await ask(server, order, [(sock["id"], 2)], "more", customer)) == [
        ("INVALID", ["lines", "0", "quantity"])
    ]
    assert (await ask(server, order, [(sock["id"], 1)], "the last one", customer))[
        "userErrors"
    ] == []


async def test_returns_are_for_delivered_orders_within_the_window(
    server: Server, shop: Shop, customer: str
) -> None:
    shipped = await paid(server, shop, ("sock-3", 1), token=customer)
    sock = (await lines_of(server, shipped, customer))["lines"][0]["id"]
    assert codes(await ask(server, shipped, [(sock, 1)], "why not", customer)) == [
        ("INVALID_STATE", ["orderId"])
    ]
    await move(server, shipped, S.SHIPPED)
    assert codes(await ask(server, shipped, [(sock, 1)], "why not", customer)) == [
        ("INVALID_STATE", ["orderId"])
    ]
    # Receipt confirmed: that is the delivery the window counts from.
    confirmed = await server.client.op("OrderConfirmReceipt", {"id": shipped.id}, token=customer)
    assert confirmed.data["orderConfirmReceipt"]["userErrors"] == []
    server.clock.advance(days=13, hours=23)
    customer = await sign_in(server.client, "returns@example.com")  # the token ran out
    assert (await ask(server, shipped, [(sock, 1)], "late but in time", customer))[
        "userErrors"
    ] == []

    order = await delivered(server, shop, customer, ("sock-3", 1))
    line = (await lines_of(server, order, customer))["lines"][0]["id"]
    server.clock.advance(days=14, seconds=1)
    customer = await sign_in(server.client, "returns@example.com")
    refused = await ask(server, order, [(line, 1)], "too late", customer)
    assert codes(refused) == [("INVALID_STATE", ["orderId"])]
    assert "return window closed" in refused["userErrors"][0]["message"]
    assert (await lines_of(server, order, customer))["returnRequests"] == []


async def test_what_cannot_be_returned_is_a_user_error(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await delivered(server, shop, customer, ("sock-3", 2))
    other = await delivered(server, shop, customer, ("tote-red", 1))
    sock = (await lines_of(server, order, customer))["lines"][0]["id"]
    foreign = (await lines_of(server, other, customer))["lines"][0]["id"]
    assert codes(await ask(server, order, [(sock, 1)], "   ", customer)) == [
        ("REQUIRED", ["reason"])
    ]
    assert codes(await ask(server, order, [], "nothing", customer)) == [("REQUIRED", ["lines"])]
    assert codes(await ask(server, order, [(foreign, 1)], "wrong", customer)) == [
        ("NOT_FOUND", ["lines", "0", "orderLineId"])
    ]
    assert codes(await ask(server, order, [(sock, 3)], "too many", customer)) == [
        ("INVALID", ["lines", "0", "quantity"])
    ]
    stranger = await make_customer(server, "stranger@example.com")
    assert codes(await ask(server, order, [(sock, 1)], "not mine", stranger)) == [
        ("NOT_FOUND", ["orderId"])
    ]
    assert codes(await ask(server, order, [(sock, 1)], "anonymous", None)) == [
        ("UNAUTHENTICATED", None)
    ]
    # Units waiting in a request cannot be asked for twice.
    assert (await ask(server, order, [(sock, 2)], "both", customer))["userErrors"] == []
    assert codes(await ask(server, order, [(sock, 1)], "again", customer)) == [
        ("INVALID", ["lines", "0", "quantity"])
    ]


async def test_a_rejected_return_tells_the_customer_why_and_frees_its_units(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await delivered(server, shop, customer, ("runner-42", 1))
    runner = (await lines_of(server, order, customer))["lines"][0]["id"]
    asked = await ask(server, order, [(runner, 1)], "worn twice, changed my mind", customer)
    request_id = asked["returnRequest"]["id"]
    # Only order staff decide.
    refused = await server.client.op("ReturnRequestApprove", {"id": request_id}, token=customer)
    assert codes(refused.data["returnRequestApprove"]) == [("PERMISSION_DENIED", None)]
    missing = await server.client.op(
        "ReturnRequestReject", {"id": request_id, "reason": " "}, token=shop.staff
    )
    assert codes(missing.data["returnRequestReject"]) == [("REQUIRED", ["reason"])]
    rejected = await server.client.op(
        "ReturnRequestReject",
        {"id": request_id, "reason": "worn shoes cannot be taken back"},
        token=shop.staff,
    )
    assert rejected.data["returnRequestReject"] == {
        "returnRequest": {"id": request_id, "status": "REJECTED"},
        "userErrors": [],
    }
    seen = await lines_of(server, order, customer)
    assert seen["returnRequests"][0]["note"] == "worn shoes cannot be taken back"
    assert seen["refunds"] == []
    mail = await sql(
        server, "SELECT recipient, subject, body FROM email_outbox ORDER BY id DESC LIMIT 1"
    )
    assert mail[0][0] == "returns@example.com"
    assert mail[0][1] == f"Your return for order {order.number}"
    assert "worn shoes cannot be taken back" in mail[0][2]
    again = await server.client.op("ReturnRequestApprove", {"id": request_id}, token=shop.staff)
    assert codes(again.data["returnRequestApprove"]) == [("INVALID_STATE", ["id"])]
    # The units are free to be asked for again.
    assert (await ask(server, order, [(runner, 1)], "unworn after all", customer))[
        "userErrors"
    ] == []


async def test_a_return_request_is_seen_by_its_owner_and_order_staff_only(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await delivered(server, shop, customer, ("sock-3", 1))
    sock = (await lines_of(server, order, customer))["lines"][0]["id"]
    request_id = (await ask(server, order, [(sock, 1)], "wrong size", customer))["returnRequest"][
        "id"
    ]
    manager = await make_staff(server, "orders@example.com", frozenset({Permission.MANAGE_ORDERS}))
    catalog = await make_staff(
        server, "catalog@example.com", frozenset({Permission.MANAGE_PRODUCTS})
    )
    stranger = await make_customer(server, "stranger@example.com")
    for token, visible in ((customer, True), (manager, True), (catalog, False), (stranger, False)):
        node = (await server.client.query(LOOKUP, {"id": request_id}, token=token)).data["node"]
        assert (node is not None) is visible, token
    decided = await server.client.op("ReturnRequestApprove", {"id": request_id}, token=manager)
    assert decided.data["returnRequestApprove"]["returnRequest"]["status"] == "APPROVED"
