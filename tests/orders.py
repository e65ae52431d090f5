"""Helpers for order and payment tests: placing and paying orders, the gateway's webhooks,
and moving orders along the shipping states directly."""

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
from app.signing import signed_headers
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
    """Moves an order along the transition table directly: a shortcut for tests about what
    happens after shipping (returns, completion), not about shipping (`tests.logistics`)."""
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


ORDER_LINES = """
query($id: ID!) { order(id: $id) {
  status total { amount } totalRefunded { amount } shippingTotal { amount } taxTotal { amount }
  lines { id sku quantity quantityRefunded unitPrice { amount } discountAllocated { amount }
          tax { amount } total { amount } amountRefunded { amount } }
  refunds { kind amount { amount } shipping { amount } status
            allocations { method amount { amount } status }
            lines { orderLineId quantity amount { amount } } }
  returnRequests { id status reason note lines { orderLineId quantity damaged } }
  events { type message }
} }
"""


async def lines_of(server: Server, order: Placed | str, token: str | None) -> dict[str, Any]:
    """The order with its lines, refunds and returns (ORDER_LINES); `lines` keyed by sku."""
    order_id = order.id if isinstance(order, Placed) else order
    seen = (await server.client.query(ORDER_LINES, {"id": order_id}, token=token)).data["order"]
    seen["by_sku"] = {line["sku"]: line for line in seen["lines"]}
    return seen  # type: ignore[no-any-return]


async def paid(
    server: Server,
    shop: Shop,
    *lines: tuple[str, int],
    token: str | None = None,
    points_amount: str | None = None,
    gift_amount: str | None = None,
    **fields: Any,
) -> Placed:
    """An order paid with points (`points_amount`, the customer holding enough), a gift
    card (`gift_amount`) and the card for the rest (confirmed by the gateway)."""
    order = await place(server, shop, *lines, token=token, **fields)
    if points_amount is not None:
        assert token is not None
        me = await server.client.query("{ me { id } }", token=token)
        user = ids.USER.decode(me.data["me"]["id"])
        assert user is not None
        await give_points(server, user, 100 * 1000)
        assert (await pay(server, order, "POINTS", amount=points_amount))[1] == []
    if gift_amount is not None:
        card = await gift_card(shop, gift_amount)
        assert (await pay(server, order, "GIFT_CARD", giftCardCode=card["code"]))[1] == []
    payload, errors = await pay(server, order, "CARD")
    if not errors:
        payment = payload["payment"]
        answer = await gateway_says(
            server, "payment.succeeded", payment["providerReference"],
            payment["amount"]["amount"],
        )  # fmt: skip
        assert answer.status_code == 200
    return order


async def refund(
    server: Server,
    shop: Shop,
    order: Placed | str,
    lines: list[tuple[str, int]] = (),  # type: ignore[assignment]
    include_shipping: bool = False,
    reason: str | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    """The payload of OrderRefund (staff by default); `lines`: (order line id, quantity)."""
    order_id = order.id if isinstance(order, Placed) else order
    result = await server.client.op(
        "OrderRefund",
        {
            "orderId": order_id,
            "input": {
                "lines": [{"orderLineId": i, "quantity": q} for i, q in lines],
                "includeShipping": include_shipping,
                "reason": reason,
            },
        },
        token=token or shop.staff,
    )
    return result.data["orderRefund"]  # type: ignore[no-any-return]
