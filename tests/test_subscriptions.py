"""Live order updates (GraphQL subscriptions over graphql-transport-ws): who hears what,
slow and vanished subscribers, several server processes, shutdown."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from app import ids, live
from app.orders.updates import TrackingNews, tracking_event
from app.settings import Settings
from app.signing import signed_headers
from app.web.websocket import MAX_OPERATIONS
from tests.conftest import (
    CARRIER_SECRET,
    PASSWORD,
    WEBHOOK_SECRET,
    Server,
    make_customer,
    make_staff,
)
from tests.live import (
    WAIT,
    RawSubscriber,
    client,
    error_codes,
    eventually,
    processes,
    server_env,
    serving,
)
from tests.logistics import carrier_event, carrier_says, ship, shipments_of
from tests.orders import (
    WEBHOOK,
    Placed,
    event_body,
    gateway_says,
    gift_card,
    order_pk,
    paid,
    pay,
    place,
    refund,
)
from tests.shop import Shop, build_shop
from tests.support import operation

ORDER_UPDATES = operation("OrderUpdates")
ORDER_TRACKING = operation("OrderTracking")
# What "at once" means for a subscriber: the update is there within a second.
PROMPT = 1.0


@pytest.fixture
async def url(server: Server) -> AsyncIterator[str]:
    async with serving(server.app) as found:
        yield found


@pytest.fixture
async def shop(server: Server) -> Shop:
    return await build_shop(server)


async def unpaid_card_order(server: Server, shop: Shop, token: str) -> tuple[Placed, str, str]:
    """An order awaiting its card payment: (order, provider reference, amount)."""
    order = await place(server, shop, ("sock-3", 2), token=token)
    payload, errors = await pay(server, order, "CARD")
    assert errors == []
    payment = payload["payment"]
    return order, payment["providerReference"], payment["amount"]["amount"]


async def subscribed(server: Server, count: int) -> None:
    """Waits until this process holds `count` subscribers (the resolver runs after the
    subscribe message, in a task of its own)."""
    await eventually(lambda: server.services.broker.subscribers == count)


async def test_the_customer_hears_the_gateway_make_the_order_paid(
    server: Server, shop: Shop, url: str
) -> None:
    token = await make_customer(server, "live@example.com")
    order, reference, amount = await unpaid_card_order(server, shop, token)
    async with client(url, token) as socket:
        await socket.subscribe("1", ORDER_UPDATES, {"orderId": order.id})
        await subscribed(server, 1)
        answer = await gateway_says(server, "payment.succeeded", reference, amount)
        assert answer.status_code == 200
        started = time.monotonic()
        data = await socket.data("1", within=PROMPT)
        assert time.monotonic() - started < PROMPT
        assert data["orderUpdated"] == {
            "id": order.id,
            "status": "PAID",
            "amountDue": {"amount": "0.00", "currency": "USD"},
        }


async def test_cancelling_the_order_is_heard(server: Server, shop: Shop, url: str) -> None:
    token = await make_customer(server, "cancel@example.com")
    order = await place(server, shop, ("sock-3", 1), token=token)
    async with client(url, token) as socket:
        await socket.subscribe("c", ORDER_UPDATES, {"orderId": order.id})
        await subscribed(server, 1)
        result = await server.client.op("OrderCancel", {"id": order.id}, token=token)
        assert result.data["orderCancel"]["userErrors"] == []
        data = await socket.data("c", within=PROMPT)
        assert data["orderUpdated"]["status"] == "CANCELLED"
        assert data["orderUpdated"]["amountDue"]["amount"] == "0.00"


async def test_a_part_payment_is_heard_as_a_smaller_amount_due(
    server: Server, shop: Shop, url: str
) -> None:
    token = await make_customer(server, "part@example.com")
    order = await place(server, shop, ("sock-3", 2), token=token)
    card = await gift_card(shop, "1.00")
    async with client(url, token) as socket:
        await socket.subscribe("p", ORDER_UPDATES, {"orderId": order.id})
        await subscribed(server, 1)
        assert (await pay(server, order, "GIFT_CARD", giftCardCode=card["code"]))[1] == []
        data = (await socket.data("p", within=PROMPT))["orderUpdated"]
        assert data["status"] == "UNPAID"
        assert Decimal(data["amountDue"]["amount"]) == Decimal(order.total) - 1


async def test_strangers_get_not_found_and_staff_are_heard(
    server: Server, shop: Shop, url: str
) -> None:
    owner = await make_customer(server, "owner@example.com")
    other = await make_customer(server, "other@example.com")
    staff = await make_staff(server, "orders-staff@example.com")
    order, reference, amount = await unpaid_card_order(server, shop, owner)
    forged = ids.ORDER.encode(ids.OrderKey(9_999_999))
    refused = [(other, order.id), (None, order.id), (other, forged), (owner, "not-an-id")]
    for token, order_id in refused:
        async with client(url, token) as socket:
            await socket.subscribe("x", ORDER_UPDATES, {"orderId": order_id})
            message = await socket.next()
            assert message["id"] == "x"
            assert error_codes(message) == ["NOT_FOUND"], message
            assert "data" not in message["payload"] or not message["payload"]["data"]
            assert await socket.next() == {"id": "x", "type": "complete"}
    await subscribed(server, 0)

    async with client(url, staff) as socket:
        await socket.subscribe("s", ORDER_UPDATES, {"orderId": order.id})
        await subscribed(server, 1)
        assert (await gateway_says(server, "payment.succeeded", reference, amount)).is_success
        assert (await socket.data("s", within=PROMPT))["orderUpdated"]["status"] == "PAID"


async def test_a_subscriber_that_never_reads_is_dropped_without_slowing_the_others(
    server: Server, shop: Shop, url: str
) -> None:
    token = await make_customer(server, "reader@example.com")
    order = await place(server, shop, ("sock-3", 1), token=token)
    broker = server.services.broker
    channel = live.tracking_channel(broker, order_pk(order))
    lagging = await RawSubscriber.open(url)
    try:
        bearer = {"Authorization": f"Bearer {token}"}
        await lagging.send({"type": "connection_init", "payload": bearer})
        assert b"connection_ack" in await lagging.read_until(b"connection_ack")
        variables = {"orderId": order.id}
        await lagging.send(
            {"id": "slow", "type": "subscribe",
             "payload": {"query": ORDER_TRACKING, "variables": variables}}
        )  # fmt: skip
        await subscribed(server, 1)
        async with client(url, token) as reader:
            await reader.subscribe("fast", ORDER_TRACKING, {"orderId": order.id})
            await subscribed(server, 2)
            total = 20 * broker.queue_size
            received = 0
            started = time.monotonic()

            async def read_all() -> None:
                nonlocal received
                while received < total:
                    data = await reader.data("fast")
                    assert data["orderTracking"]["description"].startswith(f"{received}:")
                    received += 1

            reading = asyncio.create_task(read_all())
            for n in range(total):
                broker.publish(channel, live.encode_tracking(_news(order, n, "x" * 16_000)))
                if n % 4 == 3:
                    await asyncio.sleep(0.005)  # a carrier's pace, fast as it is
            await asyncio.wait_for(reading, WAIT)
            assert time.monotonic() - started < WAIT
            assert received == total
            # The one that did not read was dropped; the reader still listens.
            await subscribed(server, 1)
        seen = await lagging.read_until(b"SUBSCRIPTION_LAGGED")
        assert b"SUBSCRIPTION_LAGGED" in seen
    finally:
        lagging.close()
    await subscribed(server, 0)


async def test_disconnecting_unsubscribes(server: Server, shop: Shop, url: str) -> None:
    token = await make_customer(server, "leaver@example.com")
    order = await place(server, shop, ("sock-3", 1), token=token)
    async with client(url, token) as first, client(url, token) as second:
        await first.subscribe("1", ORDER_UPDATES, {"orderId": order.id})
        await first.subscribe("2", ORDER_TRACKING, {"orderId": order.id})
        await second.subscribe("1", ORDER_UPDATES, {"orderId": order.id})
        await subscribed(server, 3)
        await second.send({"id": "1", "type": "complete"})
        await subscribed(server, 2)
    await subscribed(server, 0)


async def test_tracking_events_are_heard_once_committed(
    server: Server, shop: Shop, url: str
) -> None:
    token = await make_customer(server, "tracked@example.com")
    order = await place(server, shop, ("sock-3", 1), token=token)
    db = server.services.db
    when = datetime(2026, 11, 30, 8, 15, tzinfo=UTC)
    async with client(url, token) as socket:
        await socket.subscribe("t", ORDER_TRACKING, {"orderId": order.id})
        await subscribed(server, 1)

        class Abandoned(Exception):
            pass

        async def abandoned() -> None:
            async with db.transaction() as session:
                tracking_event(session, _news(order, 0, "rolled back", when))
                raise Abandoned

        with pytest.raises(Abandoned):
            await abandoned()
        async with db.transaction() as session:
            tracking_event(session, _news(order, 1, "Parcel scanned", when))
        data = await socket.data("t", within=PROMPT)
        # The first thing heard is the committed event: the rolled-back one never was.
        assert data["orderTracking"] == {
            "shipmentId": ids.SHIPMENT.encode(77),
            "status": "IN_TRANSIT",
            "location": "Leipzig hub",
            "description": "1:Parcel scanned",
            "occurredAt": "2026-11-30T08:15:00Z",
        }


async def test_subscriptions_pass_the_document_limits(server: Server, url: str) -> None:
    deep = 'subscription { orderUpdated(orderId: "x") ' + "{ a " * 14 + "}" * 15
    async with client(url) as socket:
        await socket.subscribe("d", deep, {})
        message = await socket.next()
        assert message["type"] == "error", message
        assert error_codes(message) == ["QUERY_TOO_DEEP"]


async def test_a_subscription_over_http_is_a_clear_client_error(server: Server) -> None:
    for method in ("POST", "GET"):
        query = ORDER_UPDATES
        variables = '{"orderId": "x"}'
        if method == "POST":
            answer = await server.client.http.post(
                "/graphql", json={"query": query, "variables": {"orderId": "x"}}
            )
        else:
            answer = await server.client.http.get(
                "/graphql", params={"query": query, "variables": variables}
            )
        assert 400 <= answer.status_code < 500, (method, answer.status_code, answer.text)
        assert "subscription" in answer.text.lower()


async def test_closing_the_server_completes_subscriptions(server: Server, shop: Shop) -> None:
    token = await make_customer(server, "closing@example.com")
    order = await place(server, shop, ("sock-3", 1), token=token)
    async with serving(server.app) as url, client(url, token) as socket:
        await socket.subscribe("1", ORDER_UPDATES, {"orderId": order.id})
        await subscribed(server, 1)
        await server.services.broker.close()
        assert await socket.next() == {"id": "1", "type": "complete"}
        assert server.services.broker.subscribers == 0


async def test_parcels_and_carrier_events_are_heard_as_they_happen(
    server: Server, shop: Shop, url: str
) -> None:
    token = await make_customer(server, "parcel@example.com")
    order = await paid(server, shop, ("tote-red", 1), ("runner-43", 1), token=token)
    seen = await shipments_of(server, order, token)
    tote, runner = seen["by_sku"]["tote-red"]["id"], seen["by_sku"]["runner-43"]["id"]
    async with client(url, token) as socket:
        await socket.subscribe("u", ORDER_UPDATES, {"orderId": order.id})
        await socket.subscribe("t", ORDER_TRACKING, {"orderId": order.id})
        await subscribed(server, 2)

        sent = await ship(server, shop, order, 0, [(tote, 1)], number="LIVE1")
        assert sent["userErrors"] == []
        parcel = sent["shipment"]["id"]
        assert (await socket.data("u", within=PROMPT))["orderUpdated"]["status"] == (
            "PARTIALLY_SHIPPED"
        )
        assert (await ship(server, shop, order, 1, [(runner, 1)], number="LIVE2"))[
            "userErrors"
        ] == []
        assert (await socket.data("u", within=PROMPT))["orderUpdated"]["status"] == "SHIPPED"

        when = server.clock() - timedelta(hours=1)
        event = carrier_event("LIVE1", "OUT_FOR_DELIVERY", when, "live-e1", location="Berlin")
        assert (await carrier_says(server, event)).json() == {"status": "applied"}
        started = time.monotonic()
        heard = (await socket.data("t", within=PROMPT))["orderTracking"]
        assert time.monotonic() - started < PROMPT
        assert heard == {
            "shipmentId": parcel,
            "status": "OUT_FOR_DELIVERY",
            "location": "Berlin",
            "description": "out for delivery",
            "occurredAt": when.isoformat().replace("+00:00", "Z"),
        }
        # The same event again is applied once, and heard once: next comes the delivery.
        assert (await carrier_says(server, event)).json() == {"status": "duplicate"}
        for number in ("LIVE1", "LIVE2"):
            assert (await carrier_says(server, carrier_event(number, "DELIVERED", when))).is_success
            assert (await socket.data("t", within=PROMPT))["orderTracking"]["status"] == (
                "DELIVERED"
            )
        assert (await socket.data("u", within=PROMPT))["orderUpdated"]["status"] == "DELIVERED"


async def test_a_refund_is_heard(server: Server, shop: Shop, url: str) -> None:
    token = await make_customer(server, "refunded@example.com")
    order = await paid(server, shop, ("sock-3", 2), token=token)
    line = (await shipments_of(server, order, token))["lines"][0]["id"]
    query = (
        "subscription($orderId: ID!) { orderUpdated(orderId: $orderId) "
        "{ status totalRefunded { amount } } }"
    )
    async with client(url, token) as socket:
        await socket.subscribe("r", query, {"orderId": order.id})
        await subscribed(server, 1)
        given = await refund(server, shop, order, [(line, 1)])
        assert given["userErrors"] == []
        heard = (await socket.data("r", within=PROMPT))["orderUpdated"]
        amount = given["refund"]["amount"]["amount"]
        assert heard == {"status": "PAID", "totalRefunded": {"amount": amount}}
        assert Decimal(amount) > 0


async def test_a_revoked_token_ends_the_subscription_before_the_next_update(
    server: Server, shop: Shop, url: str
) -> None:
    await make_customer(server, "leaving-live@example.com")
    signed_in = await server.client.op(
        "TokenCreate", {"email": "leaving-live@example.com", "password": PASSWORD}
    )
    token = signed_in.data["tokenCreate"]["token"]
    order = await place(server, shop, ("sock-3", 1), token=token["accessToken"])
    async with client(url, token["accessToken"]) as socket:
        await socket.subscribe("r", ORDER_UPDATES, {"orderId": order.id})
        await subscribed(server, 1)
        revoked = await server.client.op("TokenRevoke", {"refreshToken": token["refreshToken"]})
        assert revoked.data["tokenRevoke"]["userErrors"] == []
        cancelled = await server.client.op("OrderCancel", {"id": order.id}, token=shop.staff)
        assert cancelled.data["orderCancel"]["userErrors"] == []
        message = await socket.next(within=PROMPT)
        assert error_codes(message) == ["UNAUTHENTICATED"], message
        assert "CANCELLED" not in json.dumps(message)
        await subscribed(server, 0)


async def test_one_socket_runs_a_bounded_number_of_operations(
    server: Server, shop: Shop, url: str
) -> None:
    token = await make_customer(server, "many@example.com")
    order = await place(server, shop, ("sock-3", 1), token=token)
    async with client(url, token) as socket:
        for n in range(MAX_OPERATIONS):
            await socket.subscribe(str(n), ORDER_UPDATES, {"orderId": order.id})
        await subscribed(server, MAX_OPERATIONS)
        await socket.subscribe("one too many", ORDER_UPDATES, {"orderId": order.id})
        message = await socket.next()
        assert message["id"] == "one too many"
        assert error_codes(message) == ["TOO_MANY_OPERATIONS"]
        # The others go on.
        await socket.send({"id": "0", "type": "complete"})
        await subscribed(server, MAX_OPERATIONS - 1)


async def test_a_stranger_cannot_follow_anothers_parcels(
    server: Server, shop: Shop, url: str
) -> None:
    token = await make_customer(server, "owner-t@example.com")
    stranger = await make_customer(server, "stranger-t@example.com")
    order = await paid(server, shop, ("sock-3", 1), token=token)
    async with client(url, stranger) as socket:
        await socket.subscribe("t", ORDER_TRACKING, {"orderId": order.id})
        message = await socket.next()
        assert error_codes(message) == ["NOT_FOUND"], message


def _news(order: Placed, n: int, text: str, when: datetime | None = None) -> TrackingNews:
    return TrackingNews(
        order_id=order_pk(order),
        shipment_id=77,
        status="IN_TRANSIT",
        location="Leipzig hub",
        description=f"{n}:{text}",
        occurred_at=when or datetime.now(UTC),
    )


# Real uvicorn processes ------------------------------------------------------------------


@pytest.mark.postgres_only
async def test_an_update_committed_by_one_process_reaches_a_subscriber_of_another(
    server: Server, shop: Shop, settings: Settings, tmp_path: Path
) -> None:
    token = await make_customer(server, "two@example.com")
    order, reference, amount = await unpaid_card_order(server, shop, token)
    with processes(server_env(settings), tmp_path, 2) as (a, b):
        await asyncio.gather(a.ready(), b.ready())
        async with client(b.ws, token) as socket, httpx.AsyncClient(timeout=WAIT) as http:
            await socket.subscribe("1", ORDER_UPDATES, {"orderId": order.id})
            await _subscribed_in(http, b.http, 1)
            body = event_body("payment.succeeded", reference, amount)
            headers = {
                "content-type": "application/json",
                **signed_headers(WEBHOOK_SECRET, int(time.time()), body),
            }
            answer = await http.post(a.http + WEBHOOK, content=body, headers=headers)
            assert answer.status_code == 200, answer.text
            started = time.monotonic()
            data = await socket.data("1", within=PROMPT)
            assert time.monotonic() - started < PROMPT
            assert data["orderUpdated"]["status"] == "PAID"
            assert data["orderUpdated"]["amountDue"]["amount"] == "0.00"


@pytest.mark.postgres_only
async def test_a_carrier_event_taken_by_one_process_reaches_a_tracker_on_another(
    server: Server, shop: Shop, settings: Settings, tmp_path: Path
) -> None:
    token = await make_customer(server, "two-t@example.com")
    order = await paid(server, shop, ("sock-3", 1), token=token)
    line = (await shipments_of(server, order, token))["lines"][0]["id"]
    assert (await ship(server, shop, order, 0, [(line, 1)], number="TWO1"))["userErrors"] == []
    with processes(server_env(settings), tmp_path, 2) as (a, b):
        await asyncio.gather(a.ready(), b.ready())
        async with client(b.ws, token) as socket, httpx.AsyncClient(timeout=WAIT) as http:
            await socket.subscribe("t", ORDER_TRACKING, {"orderId": order.id})
            await _subscribed_in(http, b.http, 1)
            body = carrier_event("TWO1", "IN_TRANSIT", datetime.now(UTC), location="Kassel")
            headers = {
                "content-type": "application/json",
                **signed_headers(CARRIER_SECRET, int(time.time()), body),
            }
            answer = await http.post(a.http + "/webhooks/carriers/dhl", content=body,
                                     headers=headers)  # fmt: skip
            assert answer.status_code == 200, answer.text
            started = time.monotonic()
            heard = (await socket.data("t", within=PROMPT))["orderTracking"]
            assert time.monotonic() - started < PROMPT
            assert (heard["status"], heard["location"]) == ("IN_TRANSIT", "Kassel")


async def test_stopping_the_server_closes_subscribers_sockets_cleanly(
    server: Server, shop: Shop, settings: Settings, tmp_path: Path
) -> None:
    token = await make_customer(server, "sigterm@example.com")
    order = await place(server, shop, ("sock-3", 1), token=token)
    with processes(server_env(settings), tmp_path, 1) as (process,):
        await process.ready()
        async with client(process.ws, token) as socket, httpx.AsyncClient(timeout=WAIT) as http:
            await socket.subscribe("1", ORDER_UPDATES, {"orderId": order.id})
            await _subscribed_in(http, process.http, 1)
            started = time.monotonic()
            process.process.terminate()

            async def until_closed() -> None:
                while True:
                    message = await socket.next()
                    assert message.get("type") == "complete", message

            with pytest.raises(ConnectionClosed) as closed:
                await until_closed()
            assert time.monotonic() - started < WAIT
            assert closed.value.rcvd is not None, "a close frame, not a dropped connection"
        # uvicorn ends by raising the signal it caught, once it has shut down.
        assert await asyncio.to_thread(process.process.wait, WAIT) in (0, -signal.SIGTERM)
        logged = process.log.read_text()
        assert "Application shutdown complete" in logged
        assert "Traceback" not in logged, logged


async def _subscribed_in(http: httpx.AsyncClient, base: str, count: int) -> None:
    """Waits until the process at `base` counts `count` subscribers (its /metrics)."""

    async def check() -> bool:
        text = (await http.get(base + "/metrics")).text
        return f"commerce_live_subscribers {float(count)}" in text

    await eventually(check)


async def test_a_redis_outage_fails_no_request_and_local_subscribers_still_hear(
    server: Server, shop: Shop, settings: Settings
) -> None:
    # A second server on the same database whose Redis is gone.
    from app.web.asgi import create_app

    dead = settings.with_overrides(redis_url="redis://127.0.0.1:1/0")
    token = await make_customer(server, "outage@example.com")
    order, reference, amount = await unpaid_card_order(server, shop, token)
    app = create_app(dead, clock=server.clock)
    services = app.state.services
    async with app.router.lifespan_context(app), serving(app) as url:
        transport = httpx.ASGITransport(app=app)
        async with (
            client(url, token) as socket,
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
        ):
            await socket.subscribe("1", ORDER_UPDATES, {"orderId": order.id})
            await eventually(lambda: services.broker.subscribers == 1)
            body = event_body("payment.succeeded", reference, amount)
            when = int(server.clock().timestamp())
            headers = {"content-type": "application/json",
                       **signed_headers(WEBHOOK_SECRET, when, body)}  # fmt: skip
            answer = await http.post(WEBHOOK, content=body, headers=headers)
            assert answer.status_code == 200, answer.text
            data = await socket.data("1", within=PROMPT + 1)
            assert data["orderUpdated"]["status"] == "PAID"
