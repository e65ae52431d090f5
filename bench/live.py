"""Live updates under load: carriers' webhooks for one order, heard by many subscribers.

Set up untimed: a guest order, paid through the gateway's signed webhook and shipped
by staff; `subscribers` WebSocket clients (graphql-transport-ws, staff token) subscribe
to its `orderTracking`, spread over the server's worker processes by the kernel, so
with several workers most deliveries cross processes through Redis. Then `events`
signed carrier webhooks are sent, `concurrency` at a time; each names itself in its
`location`, and every subscriber notes when it hears each one. Figures: the webhooks'
rate and latency, and the delivery latency from a webhook's sending to a subscriber
hearing it (every event to every subscriber).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect

from app.signing import signed_headers
from bench.load import Result, post
from bench.purchase import ADDRESS, EMAIL, Operations, Plan, _in_stock_variants, _mutate

TRACKING = "subscription($id: ID!) { orderTracking(orderId: $id) { location } }"
WAREHOUSES = "{ warehouses { id } }"
# How long the last event may take to reach every subscriber before it counts as lost.
DRAIN_SECONDS = 10.0


@dataclass(slots=True)
class Deliveries:
    """When each subscriber heard each event (by the event's number)."""

    expected: int
    heard: dict[int, list[float]] = field(default_factory=dict)
    count: int = 0
    complete: asyncio.Event = field(default_factory=asyncio.Event)

    def note(self, number: int) -> None:
        self.heard.setdefault(number, []).append(time.perf_counter())
        self.count += 1
        if self.count >= self.expected:
            self.complete.set()


@dataclass(frozen=True, slots=True)
class Secrets:
    payment: str
    carrier: str


async def _order(client: httpx.AsyncClient, operations: Operations, staff: dict[str, str],
                 secrets: Secrets) -> tuple[str, str]:  # fmt: skip
    """A paid, shipped guest order: (its id, its parcel's tracking number)."""
    storefront, admin = operations.storefront, operations.admin
    (variant, *_) = await _in_stock_variants(client, storefront["ProductList"], 1)
    cart = (await _mutate(client, storefront["CartCreate"],
                          {"lines": [{"variantId": variant, "quantity": 1}]}))["cart"]  # fmt: skip
    addressed = await _mutate(client, storefront["CartShippingAddressSet"],
                              {"cartId": cart["id"], "address": ADDRESS})  # fmt: skip
    method = addressed["cart"]["availableShippingMethods"][0]["id"]
    await _mutate(client, storefront["CartShippingMethodSelect"],
                  {"cartId": cart["id"], "shippingMethodId": method})  # fmt: skip
    checkout = {"acceptTerms": True, "idempotencyKey": uuid.uuid4().hex, "email": EMAIL}
    order = (await _mutate(client, storefront["CheckoutComplete"],
                           {"cartId": cart["id"], "input": checkout}))["order"]  # fmt: skip
    payment = (await _mutate(client, storefront["PaymentCreate"],
                             {"orderId": order["id"], "method": "CARD"}))["payment"]  # fmt: skip
    body = orjson.dumps({"id": uuid.uuid4().hex, "type": "payment.succeeded",
                         "reference": payment["providerReference"],
                         "amount": payment["amount"]["amount"],
                         "currency": payment["amount"]["currency"]})  # fmt: skip
    paid = await client.post("/webhooks/payments/sandbox", content=body,
                             headers=_signed(secrets.payment, body))  # fmt: skip
    paid.raise_for_status()
    lines = (await post(client, storefront["OrderDetail"], {"id": order["id"]}, staff))["order"]
    number = f"BENCH{uuid.uuid4().hex[:10].upper()}"
    shipment = {"carrier": "dhl", "trackingNumber": number,
                "lines": [{"orderLineId": line["id"], "quantity": line["quantity"]}
                          for line in lines["lines"]]}  # fmt: skip
    for warehouse in (await post(client, WAREHOUSES, {}, staff))["warehouses"]:
        data = await post(client, admin["ShipmentCreate"],
                          {"orderId": order["id"], "input": {**shipment,
                                                             "warehouseId": warehouse["id"]}},
                          staff)  # fmt: skip
        if not data["shipmentCreate"]["userErrors"]:
            return order["id"], number
    raise RuntimeError("ShipmentCreate: no warehouse could send the bench order")


def _signed(secret: str, body: bytes) -> dict[str, str]:
    return {"content-type": "application/json",
            **signed_headers(secret, int(time.time()), body)}  # fmt: skip


def _event(number: str, n: int) -> bytes:
    return orjson.dumps({"id": f"bench-{uuid.uuid4().hex}", "trackingNumber": number,
                         "status": "IN_TRANSIT", "location": str(n), "description": "scan",
                         "occurredAt": datetime.now(UTC).isoformat()})  # fmt: skip


async def _subscriber(url: str, token: str, order_id: str, deliveries: Deliveries,
                      ready: Callable[[], None],
                      tasks: list[asyncio.Task[None]]) -> ClientConnection:  # fmt: skip
    socket = await connect(url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    await socket.send(
        orjson.dumps(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        ).decode()
    )
    assert orjson.loads(await socket.recv())["type"] == "connection_ack"
    await socket.send(
        orjson.dumps(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": TRACKING, "variables": {"id": order_id}},
            }
        ).decode()
    )

    async def listen() -> None:
        async for raw in socket:
            message = orjson.loads(raw)
            if message.get("type") != "next":
                raise RuntimeError(f"subscriber got {message}")
            n = int(message["payload"]["data"]["orderTracking"]["location"])
            if n < 0:
                ready()
            else:
                deliveries.note(n)

    tasks.append(asyncio.get_running_loop().create_task(listen()))
    return socket


async def measure_live(
    client: httpx.AsyncClient,
    operations: Operations,
    plan: Plan,
    secrets: Secrets,
    subscribers: int,
    events: int,
    concurrency: int,
    progress: Callable[[str], None],
) -> tuple[Result, Result]:
    """(the carrier webhooks, the deliveries to subscribers)."""
    account = {"email": plan.staff_email, "password": plan.staff_password}
    signed_in = await _mutate(client, operations.account["TokenCreate"], account)
    token = signed_in["token"]["accessToken"]
    staff = {"Authorization": f"Bearer {token}"}
    order_id, number = await _order(client, operations, staff, secrets)
    url = str(client.base_url).replace("http", "ws", 1).rstrip("/") + "/graphql"
    progress(f"live updates: {subscribers} subscribers to one order's tracking")
    deliveries = Deliveries(expected=events * subscribers)
    warmed = 0
    all_warm = asyncio.Event()

    def ready() -> None:
        nonlocal warmed
        warmed += 1
        if warmed >= subscribers:
            all_warm.set()

    listeners: list[asyncio.Task[None]] = []
    sockets = [await _subscriber(url, token, order_id, deliveries, ready, listeners)
               for _ in range(subscribers)]  # fmt: skip
    try:
        # Until every subscriber hears a probe, some may not have subscribed yet.
        deadline = time.perf_counter() + 30
        probe = itertools.count(-1, -1)
        while not all_warm.is_set():
            warmed = 0
            body = _event(number, next(probe))
            await client.post("/webhooks/carriers/dhl", content=body,
                              headers=_signed(secrets.carrier, body))  # fmt: skip
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(all_warm.wait(), 2)
            if time.perf_counter() > deadline:
                raise RuntimeError("subscribers did not all hear the probe")
        progress(f"live updates: {events} carrier webhooks, {concurrency} at a time")
        webhooks, sent_at = await _send(client, secrets, number, events, concurrency)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(deliveries.complete.wait(), DRAIN_SECONDS)
    finally:
        for socket in sockets:
            await socket.close()
        for listener in listeners:
            listener.cancel()
        await asyncio.gather(*listeners, return_exceptions=True)
    heard = Result(f"delivered to {subscribers} subscribers")
    heard.elapsed = webhooks.elapsed
    for n, sent in sent_at.items():
        times = deliveries.heard.get(n, [])
        heard.latencies.extend(t - sent for t in times)
        for _ in range(subscribers - len(times)):
            heard.fail(f"event {n} not heard by every subscriber within {DRAIN_SECONDS:g} s")
    return webhooks, heard


async def _send(client: httpx.AsyncClient, secrets: Secrets, number: str, events: int,
                concurrency: int) -> tuple[Result, dict[int, float]]:  # fmt: skip
    result = Result("carrier webhook (tracking event)")
    sent_at: dict[int, float] = {}
    numbers = iter(range(events))

    async def loop() -> None:
        for n in numbers:
            body = _event(number, n)
            sent_at[n] = started = time.perf_counter()
            response = await client.post("/webhooks/carriers/dhl", content=body,
                                         headers=_signed(secrets.carrier, body))  # fmt: skip
            result.latencies.append(time.perf_counter() - started)
            statements = response.headers.get("x-sql-statements")
            if statements is not None:
                result.statements.append(int(statements))
            if response.json() != {"status": "applied"}:
                result.fail(f"{response.status_code} {response.text[:200]}")

    begun = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(loop())
    result.elapsed = time.perf_counter() - begun
    return result, sent_at
