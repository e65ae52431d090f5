"""Logistics through the API: staff send units in parcels from warehouses, carriers' signed
events track them (late, twice, out of order), the order follows its parcels, and what
cannot be done is a userError that changes nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from app.accounts.permissions import Permission
from tests.conftest import Server, make_customer, make_staff
from tests.logistics import carrier_event, carrier_says, ship, shipments_of
from tests.orders import paid, pay, place, refund
from tests.shop import Shop, build_shop, sql, stock_rows

EXCEPTIONS = """
query($status: ShipmentStatus) { shipments(first: 10, status: $status) {
  totalCount edges { node { id trackingNumber status } } } }
"""


@pytest.fixture
async def shop(server: Server) -> Shop:
    return await build_shop(server)


@pytest.fixture
async def customer(server: Server) -> str:
    return await make_customer(server, "buyer@example.com")


def _codes(payload: dict) -> list[str]:  # type: ignore[type-arg]
    return [e["code"] for e in payload["userErrors"]]


async def _shipment_count(server: Server) -> int:
    return int((await sql(server, "SELECT count(*) FROM shipment"))[0][0])


async def test_shipping_everything_from_where_checkout_took_it(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await paid(server, shop, ("runner-42", 2), ("sock-3", 1), token=customer)
    before = {sku: await stock_rows(server, sku) for sku in ("runner-42", "sock-3")}
    seen = await shipments_of(server, order, customer)
    lines = [(seen["by_sku"][s]["id"], n) for s, n in (("runner-42", 2), ("sock-3", 1))]

    sent = await ship(server, shop, order, 0, lines, carrier="DHL", number="JD0001")

    assert sent["userErrors"] == []
    assert sent["order"]["status"] == "SHIPPED"
    assert sent["shipment"]["status"] == "PENDING"
    # The units left the warehouse checkout took them from: no stock row moves again.
    assert {sku: await stock_rows(server, sku) for sku in before} == before
    seen = await shipments_of(server, order, customer)
    (parcel,) = seen["shipments"]
    assert parcel["carrier"] == "dhl"
    assert parcel["trackingNumber"] == "JD0001"
    assert parcel["trackingUrl"].endswith("tracking-id=JD0001")
    assert parcel["deliveredAt"] is None
    assert sorted((x["orderLineId"], x["quantity"]) for x in parcel["lines"]) == sorted(lines)
    shipped_at = parcel["shippedAt"]
    # Standard shipping takes 2 to 4 days.
    assert parcel["estimatedDelivery"]["earliest"] > shipped_at
    assert parcel["estimatedDelivery"]["latest"] > parcel["estimatedDelivery"]["earliest"]
    assert {line["sku"]: line["quantityShipped"] for line in seen["lines"]} == {
        "runner-42": 2,
        "sock-3": 1,
    }
    assert seen["events"][-1]["type"] == "SHIPPED"
    assert "JD0001" in seen["events"][-1]["message"]
    (mail,) = await sql(
        server,
        "SELECT recipient, subject, body FROM email_outbox WHERE subject LIKE '%shipped%'",
    )
    assert mail[0] == "buyer@example.com"
    assert "tracking-id=JD0001" in mail[2]


async def test_an_order_split_across_warehouses_ships_in_parcels(
    server: Server, shop: Shop, customer: str
) -> None:
    # tote-red is only in Berlin, runner-43 only in Hamburg: checkout allocates both.
    order = await paid(server, shop, ("tote-red", 1), ("runner-43", 1), token=customer)
    seen = await shipments_of(server, order, customer)
    tote, runner = seen["by_sku"]["tote-red"]["id"], seen["by_sku"]["runner-43"]["id"]

    first = await ship(server, shop, order, 0, [(tote, 1)])
    assert first["userErrors"] == []
    assert first["order"]["status"] == "PARTIALLY_SHIPPED"
    second = await ship(server, shop, order, 1, [(runner, 1)])
    assert second["userErrors"] == []
    assert second["order"]["status"] == "SHIPPED"
    assert await stock_rows(server, "tote-red") == [(0, 0), (9, 0)]
    assert await stock_rows(server, "runner-43") == [(0, 0), (1, 0)]
    seen = await shipments_of(server, order, customer)
    assert len(seen["shipments"]) == 2
    mails = await sql(server, "SELECT body FROM email_outbox WHERE subject LIKE '%shipped%'")
    assert len(mails) == 2
    assert "another parcel" in mails[0][0]


async def test_staff_may_send_from_another_warehouse_and_the_stock_follows(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await paid(server, shop, ("runner-42", 2), token=customer)
    assert await stock_rows(server, "runner-42") == [(3, 0), (5, 0)]  # Berlin gave them
    line = (await shipments_of(server, order, customer))["by_sku"]["runner-42"]["id"]

    sent = await ship(server, shop, order, 1, [(line, 1)])  # from Hamburg instead

    assert sent["userErrors"] == []
    # Berlin has its unit back; Hamburg gave one.
    assert await stock_rows(server, "runner-42") == [(4, 0), (4, 0)]
    # The unit still to send is refunded: it goes back where it was allocated (Berlin).
    result = await refund(server, shop, order, [(line, 1)])
    assert result["userErrors"] == []

    assert await stock_rows(server, "runner-42") == [(4, 0), (5, 0)]
    assert result["order"]["status"] == "SHIPPED"


async def test_what_cannot_ship_is_a_user_error_that_changes_nothing(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await paid(server, shop, ("runner-43", 1), ("tote-red", 2), token=customer)
    seen = await shipments_of(server, order, customer)
    runner, tote = seen["by_sku"]["runner-43"]["id"], seen["by_sku"]["tote-red"]["id"]
    before = (await stock_rows(server, "runner-43"), await stock_rows(server, "tote-red"))

    too_many = await ship(server, shop, order, 1, [(runner, 2)])
    assert _codes(too_many) == ["INVALID"]
    assert too_many["userErrors"][0]["field"] == ["input", "lines", "0", "quantity"]
    # Berlin has no runner-43 to spare.
    short = await ship(server, shop, order, 0, [(runner, 1), (tote, 2)])
    assert _codes(short) == ["INSUFFICIENT_STOCK"]
    assert _codes(await ship(server, shop, order, 0, [(tote, 1)], carrier="pigeon")) == ["INVALID"]
    assert _codes(await ship(server, shop, order, 0, [])) == ["REQUIRED"]
    assert _codes(await ship(server, shop, order, 0, [(tote, 0)])) == ["INVALID"]
    assert _codes(await ship(server, shop, order, 0, [(tote, 1)], number="A B")) == ["INVALID"]
    # A NUL never reaches the service: the edge refuses the request.
    with pytest.raises(AssertionError, match="NUL"):
        await ship(server, shop, order, 0, [(tote, 1)], number="A\x00B")
    assert _codes(await ship(server, shop, order, 0, [(tote, 1)], number="  ")) == ["REQUIRED"]
    forged = "T3JkZXJMaW5lOjk5OTk5OTk="  # OrderLine:9999999
    assert _codes(await ship(server, shop, order, 0, [(forged, 1)])) == ["NOT_FOUND"]
    assert _codes(await ship(server, shop, order, "V2FyZWhvdXNlOjk5OTk=", [(tote, 1)])) == [
        "NOT_FOUND"
    ]
    # Only staff who manage orders ship.
    assert _codes(await ship(server, shop, order, 0, [(tote, 1)], token=customer)) == [
        "PERMISSION_DENIED"
    ]
    catalog = await make_staff(
        server, "catalog@example.com", frozenset({Permission.MANAGE_PRODUCTS})
    )
    assert _codes(await ship(server, shop, order, 0, [(tote, 1)], token=catalog)) == [
        "PERMISSION_DENIED"
    ]
    assert await _shipment_count(server) == 0
    assert (await stock_rows(server, "runner-43"), await stock_rows(server, "tote-red")) == before
    seen = await shipments_of(server, order, customer)
    assert seen["status"] == "PAID"
    assert all(line["quantityShipped"] == 0 for line in seen["lines"])

    # A tracking number names one parcel of its carrier.
    assert (await ship(server, shop, order, 0, [(tote, 1)], number="SAME1"))["userErrors"] == []
    again = await ship(server, shop, order, 0, [(tote, 1)], number="SAME1")
    assert _codes(again) == ["ALREADY_EXISTS"]
    assert (await ship(server, shop, order, 0, [(tote, 1)], carrier="ups", number="SAME1"))[
        "userErrors"
    ] == []
    assert await _shipment_count(server) == 2


async def test_unpaid_and_cancelled_orders_do_not_ship(
    server: Server, shop: Shop, customer: str
) -> None:
    unpaid = await place(server, shop, ("sock-3", 1), token=customer)
    line = (await shipments_of(server, unpaid, customer))["lines"][0]["id"]
    assert _codes(await ship(server, shop, unpaid, 0, [(line, 1)])) == ["INVALID_STATE"]
    cancelled = await server.client.op("OrderCancel", {"id": unpaid.id}, token=customer)
    assert cancelled.data["orderCancel"]["order"]["status"] == "CANCELLED"
    assert _codes(await ship(server, shop, unpaid, 0, [(line, 1)])) == ["INVALID_STATE"]
    assert await _shipment_count(server) == 0


async def test_concurrent_parcels_never_send_a_unit_twice(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await paid(server, shop, ("sock-3", 3), token=customer)
    line = (await shipments_of(server, order, customer))["lines"][0]["id"]

    results = await asyncio.gather(*(ship(server, shop, order, 0, [(line, 2)]) for _ in range(10)))

    assert sorted(len(r["userErrors"]) for r in results) == [0] + [1] * 9
    assert {c for r in results for c in _codes(r)} == {"INVALID"}
    seen = await shipments_of(server, order, customer)
    assert seen["lines"][0]["quantityShipped"] == 2
    assert seen["status"] == "PARTIALLY_SHIPPED"
    assert await _shipment_count(server) == 1


async def test_carrier_events_arrive_late_twice_and_out_of_order(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await paid(server, shop, ("tote-red", 1), ("runner-43", 1), token=customer)
    seen = await shipments_of(server, order, customer)
    tote, runner = seen["by_sku"]["tote-red"]["id"], seen["by_sku"]["runner-43"]["id"]
    assert (await ship(server, shop, order, 0, [(tote, 1)], number="P1"))["userErrors"] == []
    assert (await ship(server, shop, order, 1, [(runner, 1)], number="P2"))["userErrors"] == []
    t0 = server.clock() - timedelta(hours=48)

    delivered = carrier_event("P1", "DELIVERED", t0 + timedelta(hours=30), "e-3")
    assert (await carrier_says(server, delivered)).json() == {"status": "applied"}
    # The same event again, and an earlier one arriving late.
    assert (await carrier_says(server, delivered)).json() == {"status": "duplicate"}
    in_transit = carrier_event("P1", "IN_TRANSIT", t0 + timedelta(hours=2), "e-1")
    assert (await carrier_says(server, in_transit)).status_code == 200
    out = carrier_event("P1", "OUT_FOR_DELIVERY", t0 + timedelta(hours=26), "e-2")
    assert (await carrier_says(server, out)).status_code == 200

    seen = await shipments_of(server, order, customer)
    first = seen["shipments"][0]
    assert first["status"] == "DELIVERED"
    assert [e["status"] for e in first["events"]] == ["IN_TRANSIT", "OUT_FOR_DELIVERY",
                                                      "DELIVERED"]  # fmt: skip
    assert first["deliveredAt"] is not None
    # One parcel of two has arrived: the order waits for the other.
    assert seen["status"] == "SHIPPED"
    assert [e["type"] for e in seen["events"]].count("SHIPMENT_DELIVERED") == 1

    last = carrier_event("P2", "DELIVERED", t0 + timedelta(hours=40))
    assert (await carrier_says(server, last)).status_code == 200
    seen = await shipments_of(server, order, customer)
    assert seen["status"] == "DELIVERED"
    # A late event of a delivered parcel is kept in its history and changes nothing else.
    late = carrier_event("P2", "IN_TRANSIT", t0 + timedelta(hours=3))
    assert (await carrier_says(server, late)).status_code == 200
    seen = await shipments_of(server, order, customer)
    assert seen["status"] == "DELIVERED"
    assert seen["shipments"][1]["status"] == "DELIVERED"
    assert [e["status"] for e in seen["shipments"][1]["events"]] == ["IN_TRANSIT", "DELIVERED"]


async def test_a_carrier_exception_is_shown_to_the_customer_and_listed_for_staff(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await paid(server, shop, ("sock-3", 1), token=customer)
    line = (await shipments_of(server, order, customer))["lines"][0]["id"]
    assert (await ship(server, shop, order, 0, [(line, 1)], number="X1"))["userErrors"] == []
    body = carrier_event("X1", "EXCEPTION", server.clock(), description="address unknown")
    assert (await carrier_says(server, body)).status_code == 200

    seen = await shipments_of(server, order, customer)
    assert seen["shipments"][0]["status"] == "EXCEPTION"
    assert "address unknown" in seen["events"][-1]["message"]
    listed = (await server.client.query(EXCEPTIONS, {"status": "EXCEPTION"},
                                        token=shop.staff)).data["shipments"]  # fmt: skip
    assert listed["totalCount"] == 1
    assert listed["edges"][0]["node"]["trackingNumber"] == "X1"
    refused = await server.client.query(EXCEPTIONS, {"status": "EXCEPTION"}, token=customer)
    assert refused.error_codes == ["PERMISSION_DENIED"]


async def test_forged_stale_and_malformed_carrier_webhooks_change_nothing(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await paid(server, shop, ("sock-3", 1), token=customer)
    line = (await shipments_of(server, order, customer))["lines"][0]["id"]
    assert (await ship(server, shop, order, 0, [(line, 1)], number="F1"))["userErrors"] == []
    body = carrier_event("F1", "DELIVERED", server.clock())

    forged = await carrier_says(server, body, secret="not-the-carrier-secret-at-all")
    assert forged.status_code == 401
    stale = await carrier_says(server, body, timestamp=int(server.clock().timestamp()) - 301)
    assert stale.status_code == 401
    assert (await carrier_says(server, body, carrier="nobody")).status_code == 404
    ahead = carrier_event("F1", "DELIVERED", server.clock() + timedelta(hours=2))
    nul = body.replace(b'"Hamburg"', b'"Ham\\u0000burg"')
    surrogate = body.replace(b'"Hamburg"', b'"Ham\\ud800burg"')
    long_number = body.replace(b'"F1"', b'"' + b"9" * 101 + b'"')
    for bad in (b"[]", b"{", b'{"id": "x"}', body.replace(b"DELIVERED", b"LOST"),
                body.replace(b"Z", b""), ahead, nul, surrogate, long_number):  # fmt: skip
        answer = await carrier_says(server, bad)
        assert answer.status_code == 400, bad
        assert answer.json()["error"]
    unknown = await carrier_says(server, carrier_event("NOT-OURS", "IN_TRANSIT", server.clock()))
    assert unknown.json() == {"status": "unknown"}
    seen = await shipments_of(server, order, customer)
    assert seen["shipments"][0]["events"] == []
    assert seen["status"] == "SHIPPED"


async def test_refunding_what_is_left_to_send_puts_it_back_and_completes_the_shipping(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await paid(server, shop, ("tote-red", 1), ("sock-3", 2), token=customer)
    seen = await shipments_of(server, order, customer)
    tote, sock = seen["by_sku"]["tote-red"]["id"], seen["by_sku"]["sock-3"]["id"]
    assert (await ship(server, shop, order, 0, [(tote, 1), (sock, 1)], number="R1"))[
        "userErrors"
    ] == []
    assert (await carrier_says(server, carrier_event("R1", "DELIVERED", server.clock()))).is_success
    socks = await stock_rows(server, "sock-3")

    result = await refund(server, shop, order, [(sock, 1)])

    assert result["userErrors"] == []
    # The unit never sent is back on the shelf; nothing is left to send, and the one parcel
    # has arrived: the order is delivered.
    assert sum(q for q, _ in await stock_rows(server, "sock-3")) == sum(q for q, _ in socks) + 1
    seen = await shipments_of(server, order, customer)
    assert seen["status"] == "DELIVERED"
    # A sent unit refunded is not put back: it is with the customer.
    assert (await refund(server, shop, order, [(tote, 1)]))["userErrors"] == []
    assert await stock_rows(server, "tote-red") == [(0, 0), (9, 0)]


async def test_a_guest_order_ships_and_a_stranger_sees_none_of_it(
    server: Server, shop: Shop
) -> None:
    order = await place(server, shop, ("sock-3", 1))
    payload, errors = await pay(server, order, "CARD")
    assert errors == []
    from tests.orders import gateway_says

    payment = payload["payment"]
    assert (await gateway_says(server, "payment.succeeded", payment["providerReference"],
                               payment["amount"]["amount"])).is_success  # fmt: skip
    line = (await shipments_of(server, order, shop.staff))["lines"][0]["id"]
    sent = await ship(server, shop, order, 0, [(line, 1)])
    assert sent["userErrors"] == []
    stranger = await make_customer(server, "stranger@example.com")
    node = await server.client.query(
        "query($id: ID!) { node(id: $id) { id } }", {"id": sent["shipment"]["id"]},
        token=stranger,
    )  # fmt: skip
    assert node.data == {"node": None}


async def test_ten_copies_of_a_carrier_event_at_once_are_applied_once(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await paid(server, shop, ("sock-3", 1), token=customer)
    line = (await shipments_of(server, order, customer))["lines"][0]["id"]
    assert (await ship(server, shop, order, 0, [(line, 1)], number="C10"))["userErrors"] == []
    body = carrier_event("C10", "DELIVERED", server.clock(), "same-event")

    answers = await asyncio.gather(*(carrier_says(server, body) for _ in range(10)))

    assert sorted(a.json()["status"] for a in answers) == ["applied"] + ["duplicate"] * 9
    seen = await shipments_of(server, order, customer)
    assert len(seen["shipments"][0]["events"]) == 1
    assert seen["status"] == "DELIVERED"
    assert [e["type"] for e in seen["events"]].count("DELIVERED") == 1
