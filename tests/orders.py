"""Helpers for order and payment tests: placing and paying orders, the gateway's webhooks,
and moving orders along states that later work (logistics) will reach."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from app import ids
from app.ledger import Source
from app.loyalty import points
from app.loyalty.models import PointsEntryKind
from app.orders import transitions
from app.orders.models import OrderStatus
from app.payments.signing import signed_headers
from tests.conftest import WEBHOOK_SECRET, Server
from tests.shop import Shop, sql
from tests.test_checkout import checkout, ready_cart

WEBHOOK = "/webhooks/payments/sandbox"

ORDER = """
query($id: ID!) { order(id: $id) {
  id number status amountDue { amount } totalRefunded { amount } total { amount }
  payments { id method status amount { amount } providerReference }
  refunds { id kind amount { amount } allocations { method amount { amount } status } status }
  events { type message }
} }
"""


@dataclass
class Placed:
    id: str
    number: str
    total: str
    token: str | None  # the customer's access token; None for a guest


async def place(
    server: Server, shop: Shop, *lines: tuple[str, int], token: str | None = None, **fields: Any
) -> Placed:
    api = server.client
    cart_id = await ready_cart(api, shop, *lines, token=token)
    order, errors = await checkout(api, cart_id, token=token, **fields)
    assert errors == [], errors
    assert order is not None
    return Placed(order["id"], order["number"], order["total"]["amount"], token)


async def pay(
    server: Server, order: Placed | str, method: str, token: str | None = None, **args: Any
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(payload, userErrors) of PaymentCreate; the order's customer pays by default."""
    order_id = order.id if isinstance(order, Placed) else order
    bearer = token if token is not None or not isinstance(order, Placed) else order.token
    result = await server.client.op(
        "PaymentCreate", {"orderId": order_id, "method": method, **args}, token=bearer
    )
    payload = result.data["paymentCreate"]
    return payload, payload["userErrors"]


async def detail(server: Server, order: Placed | str, token: str | None) -> dict[str, Any]:
    order_id = order.id if isinstance(order, Placed) else order
    return (await server.client.query(ORDER, {"id": order_id}, token=token)).data["order"]


async def gift_card(shop: Shop, balance: str, **fields: Any) -> dict[str, Any]:
    """A new gift card: {id, code, balance}."""
    payload = await shop.admin("GiftCardCreate", {"input": {"initialBalance": balance, **fields}})
    return payload["giftCard"]  # type: ignore[no-any-return]


async def card_balance(server: Server, code: str) -> int:
    (row,) = await sql(server, "SELECT balance FROM gift_card WHERE code = :c", c=code)
    return int(row[0])


def event_body(
    type: str, reference: str, amount: str, currency: str = "USD", event_id: str | None = None
) -> bytes:
    return orjson.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex}",
            "type": type,
            "reference": reference,
            "amount": amount,
            "currency": currency,
        }
    )


async def send(
    server: Server,
    body: bytes,
    *,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POSTs a webhook body signed as the gateway signs it (with `secret`, at `timestamp`:
    the server's clock by default)."""
    when = timestamp if timestamp is not None else int(server.clock().timestamp())
    sent = {"content-type": "application/json", **signed_headers(secret, when, body)}
    sent.update(headers or {})
    return await server.client.http.post(WEBHOOK, content=body, headers=sent)


async def gateway_says(
    server: Server, type: str, reference: str, amount: str, event_id: str | None = None
) -> httpx.Response:
    return await send(server, event_body(type, reference, amount, event_id=event_id))


def order_pk(order: Placed | str) -> int:
    key = ids.ORDER.decode(order.id if isinstance(order, Placed) else order)
    assert key is not None
    return key.order_id


async def move(server: Server, order: Placed | str, *statuses: OrderStatus) -> None:
    """Moves an order along the transition table as logistics will (shipped, delivered)."""
    async with server.services.db.transaction() as session:
        row = await transitions.lock(session, order_pk(order))
        assert row is not None
        for status in statuses:
            transitions.move(session, row, status, f"{status.value.lower()} (test)", server.clock())


async def give_points(server: Server, user_id: int, count: int) -> None:
    async with server.services.db.transaction() as session:
        await points.credit(
            session, user_id, count, PointsEntryKind.EARNED, Source(), server.clock()
        )
