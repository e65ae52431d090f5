"""Payments through the HTTP app: cards decided by the gateway's signed webhooks only,
gift cards and points applied at once and never spent twice, split tender, the inbox of
notifications, and refunds of payments an order did not need."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from app.payments import settlement
from tests.conftest import Server, make_customer, make_staff, sign_in
from tests.orders import (
    WEBHOOK,
    Placed,
    card_balance,
    detail,
    event_body,
    gateway_says,
    gift_card,
    give_points,
    pay,
    place,
    send,
)
from tests.shop import Shop, build_shop, sql
from tests.test_checkout import available

NOTIFICATIONS = """
query($state: PaymentNotificationState) {
  paymentNotifications(first: 10, state: $state) {
    edges { node { id state signature eventId error attempts } }
  }
}
"""
REPLAY = """
mutation($id: ID!) { paymentNotificationReplay(id: $id) {
  notification { state error attempts } userErrors { code message } } }
"""


@pytest.fixture
async def shop(server: Server) -> Shop:
    return await build_shop(server)


@pytest.fixture
async def customer(server: Server) -> str:
    return await make_customer(server, "payer@example.com")


def minus(a: str, b: str) -> str:
    return str(Decimal(a) - Decimal(b))


async def test_a_card_payment_waits_for_the_gateway(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await place(server, shop, ("runner-42", 1), token=customer)
    payload, errors = await pay(server, order, "CARD")
    assert errors == []
    payment = payload["payment"]
    assert payment["method"] == "CARD"
    assert payment["status"] == "PENDING"
    assert payment["amount"]["amount"] == order.total
    assert payment["providerReference"].startswith("sbx_pay_")
    assert payment["clientSecret"].startswith(payment["providerReference"])
    assert payload["order"] == {
        "id": order.id,
        "status": "UNPAID",
        "amountDue": {"amount": order.total, "currency": "USD"},
    }
    # Nothing the client sends makes it succeed; the gateway's signed word does.
    assert (await detail(server, order, customer))["status"] == "UNPAID"
    answer = await gateway_says(
        server, "payment.succeeded", payment["providerReference"], order.total
    )
    assert (answer.status_code, answer.json()) == (200, {"status": "processed"})
    seen = await detail(server, order, customer)
    assert seen["status"] == "PAID"
    assert seen["amountDue"]["amount"] == "0.00"
    assert [p["status"] for p in seen["payments"]] == ["SUCCEEDED"]
    assert [e["type"] for e in seen["events"]] == [
        "PLACED", "PAYMENT_STARTED", "PAYMENT_RECEIVED", "PAID",
    ]  # fmt: skip
    # A client secret is handed out once, never stored.
    stored = await sql(server, "SELECT provider, provider_reference FROM payment")
    assert stored == [("sandbox", payment["providerReference"])]


async def test_split_tender_a_gift_card_for_part_the_card_for_the_rest(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await place(server, shop, ("runner-42", 1), token=customer)
    card = await gift_card(shop, "50.00", code="SPLIT-0001-TEST")
    assert card["code"] == "SPLIT0001TEST"
    # No amount: as much of what is due as the card holds.
    payload, errors = await pay(server, order, "GIFT_CARD", giftCardCode="split 0001 test")
    assert errors == []
    assert payload["payment"]["status"] == "SUCCEEDED"
    assert payload["payment"]["amount"]["amount"] == "50.00"
    rest = minus(order.total, "50.00")
    assert payload["order"]["amountDue"]["amount"] == rest
    assert payload["order"]["status"] == "UNPAID"
    assert await card_balance(server, card["code"]) == 0

    payload, errors = await pay(server, order, "CARD")
    assert errors == []
    assert payload["payment"]["amount"]["amount"] == rest
    answer = await gateway_says(
        server, "payment.succeeded", payload["payment"]["providerReference"], rest
    )
    assert answer.status_code == 200
    seen = await detail(server, order, customer)
    assert seen["status"] == "PAID"
    assert [(p["method"], p["status"]) for p in seen["payments"]] == [
        ("GIFT_CARD", "SUCCEEDED"), ("CARD", "SUCCEEDED"),
    ]  # fmt: skip
    entries = await sql(
        server, "SELECT kind, amount, balance_after FROM gift_card_entry ORDER BY id"
    )
    assert entries == [("ISSUED", 5000, 5000), ("PAYMENT", -5000, 0)]


async def test_paying_more_than_is_due_or_held_is_amount_exceeded(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await place(server, shop, ("sock-3", 1), token=customer)
    card = await gift_card(shop, "5.00")
    for method, args, field in (
        ("CARD", {"amount": "99.00"}, ["amount"]),
        ("GIFT_CARD", {"amount": "99.00", "giftCardCode": card["code"]}, ["amount"]),
        ("GIFT_CARD", {"amount": "6.00", "giftCardCode": card["code"]}, ["amount"]),
        ("POINTS", {}, ["method"]),
    ):
        _, errors = await pay(server, order, method, **args)
        assert [(e["code"], e["field"]) for e in errors] == [("AMOUNT_EXCEEDED", field)], method
    _, errors = await pay(server, order, "GIFT_CARD", giftCardCode="NOSUCHCARD1")
    assert [(e["code"], e["field"]) for e in errors] == [("NOT_FOUND", ["giftCardCode"])]
    _, errors = await pay(server, order, "GIFT_CARD")
    assert [(e["code"], e["field"]) for e in errors] == [("REQUIRED", ["giftCardCode"])]
    _, errors = await pay(server, order, "CARD", amount="0")
    assert [e["code"] for e in errors] == ["INVALID"]
    _, errors = await pay(server, order, "CARD", amount="1.001")
    assert [e["code"] for e in errors] == ["INVALID"]
    # Nothing changed.
    assert await card_balance(server, card["code"]) == 500
    assert (await detail(server, order, customer))["payments"] == []

    # Paid in full, nothing more is due.
    _, errors = await pay(server, order, "GIFT_CARD", giftCardCode=card["code"], amount="5.00")
    assert errors == []
    payload, errors = await pay(server, order, "CARD")
    assert errors == []
    await gateway_says(
        server,
        "payment.succeeded",
        payload["payment"]["providerReference"],
        payload["payment"]["amount"]["amount"],
    )
    _, errors = await pay(server, order, "CARD")
    assert [(e["code"], e["field"]) for e in errors] == [("INVALID_STATE", ["orderId"])]


async def test_an_expired_gift_card_pays_nothing(server: Server, shop: Shop, customer: str) -> None:
    order = await place(server, shop, ("sock-3", 1), token=customer)
    in_a_minute = server.clock.now + timedelta(minutes=1)
    card = await gift_card(shop, "5.00", expiresAt=in_a_minute.isoformat())
    server.clock.advance(minutes=2)
    _, errors = await pay(server, order, "GIFT_CARD", giftCardCode=card["code"])
    assert [(e["code"], e["field"]) for e in errors] == [("INVALID_STATE", ["giftCardCode"])]


async def test_one_gift_card_spent_at_once_by_many_orders_never_goes_below_zero(
    server: Server, shop: Shop
) -> None:
    card = await gift_card(shop, "30.00")
    orders = [await place(server, shop, ("sock-3", 2)) for _ in range(8)]

    async def spend(order: Placed) -> list[dict[str, Any]]:
        return (await pay(server, order, "GIFT_CARD", giftCardCode=card["code"], amount="7.00"))[1]

    results = await asyncio.gather(*(spend(order) for order in orders))
    paid = [errors for errors in results if errors == []]
    refused = [errors[0]["code"] for errors in results if errors]
    assert len(paid) == 4  # 4 x 7.00 of 30.00
    assert refused == ["AMOUNT_EXCEEDED"] * 4
    assert await card_balance(server, card["code"]) == 200
    spent = await sql(server, "SELECT sum(amount) FROM payment WHERE method = 'GIFT_CARD'")
    entries = await sql(server, "SELECT sum(amount), min(balance_after) FROM gift_card_entry")
    assert spent == [(2800,)]
    assert entries == [(200, 200)]

    # Taking whatever is left, all at once: one order gets it, the others nothing.
    results = await asyncio.gather(
        *(pay(server, order, "GIFT_CARD", giftCardCode=card["code"]) for order in orders)
    )
    assert sorted(len(errors) for _, errors in results) == [0] + [1] * 7
    assert await card_balance(server, card["code"]) == 0


async def test_points_spent_at_once_never_go_below_zero(
    server: Server, shop: Shop, customer: str
) -> None:
    await give_points(
        server, await _user_pk(server, "payer@example.com"), 1000
    )  # worth 10.00 at 100 points per unit
    orders = [await place(server, shop, ("sock-3", 2), token=customer) for _ in range(6)]

    async def spend(order: Placed) -> list[dict[str, Any]]:
        return (await pay(server, order, "POINTS", amount="4.00"))[1]

    results = await asyncio.gather(*(spend(order) for order in orders))
    assert sum(errors == [] for errors in results) == 2  # 2 x 400 of 1000 points
    assert {errors[0]["code"] for errors in results if errors} == {"AMOUNT_EXCEEDED"}
    balance = await server.client.query("{ me { pointsBalance } }", token=customer)
    assert balance.data["me"]["pointsBalance"] == 200
    ledger = await server.client.query(
        "{ me { pointsLedger(first: 10) { edges { node { kind points balanceAfter"
        " orderNumber } } } } }",
        token=customer,
    )
    kinds = [e["node"] for e in ledger.data["me"]["pointsLedger"]["edges"]]
    assert [(k["kind"], k["points"]) for k in kinds] == [
        ("SPENT", -400), ("SPENT", -400), ("EARNED", 1000),
    ]  # fmt: skip
    assert min(k["balanceAfter"] for k in kinds) == 200
    assert {k["orderNumber"] for k in kinds[:2]} <= {o.number for o in orders}
    # Only the customer spends their points: not a stranger, not staff.
    stranger = await make_customer(server, "stranger@example.com")
    _, errors = await pay(server, orders[-1], "POINTS", token=stranger)
    assert [e["code"] for e in errors] == ["NOT_FOUND"]


async def _user_pk(server: Server, email: str) -> int:
    (row,) = await sql(server, "SELECT id FROM user_account WHERE email = :e", e=email)
    return int(row[0])


async def test_forged_and_stale_webhooks_are_refused_and_change_nothing(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await place(server, shop, ("runner-42", 1), token=customer)
    payload, _ = await pay(server, order, "CARD")
    reference = payload["payment"]["providerReference"]
    body = event_body("payment.succeeded", reference, order.total)
    now = int(server.clock().timestamp())

    forged = await send(server, body, secret="not-the-shared-secret-at-all")
    stale = await send(server, body, timestamp=now - 301)
    future = await send(server, body, timestamp=now + 301)
    unsigned = await server.client.http.post(
        WEBHOOK, content=body, headers={"content-type": "application/json"}
    )
    tampered = await send(server, body, headers={"X-Webhook-Signature": "sha256=" + "0" * 64})
    assert [r.status_code for r in (forged, stale, future, unsigned, tampered)] == [401] * 5
    assert (await detail(server, order, customer))["status"] == "UNPAID"
    # Kept with the verdict, never acted on, and their event id is not taken.
    staff = await make_staff(server, "inbox@example.com")
    seen = await server.client.query(NOTIFICATIONS, token=staff)
    nodes = [e["node"] for e in seen.data["paymentNotifications"]["edges"]]
    assert [(n["signature"], n["state"], n["eventId"]) for n in nodes] == [
        ("BAD_SIGNATURE", "REJECTED", None),
        ("BAD_SIGNATURE", "REJECTED", None),
        ("STALE", "REJECTED", None),
        ("STALE", "REJECTED", None),
        ("BAD_SIGNATURE", "REJECTED", None),
    ]
    replayed = await server.client.query(REPLAY, {"id": nodes[0]["id"]}, token=staff)
    assert [e["code"] for e in replayed.data["paymentNotificationReplay"]["userErrors"]] == [
        "INVALID_STATE"
    ]
    # Within 300 s either way is fine; the real event then still applies.
    assert (await send(server, body, timestamp=now - 299)).status_code == 200
    assert (await detail(server, order, customer))["status"] == "PAID"


async def test_an_event_delivered_twice_is_applied_once(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await place(server, shop, ("runner-42", 1), token=customer)
    payload, _ = await pay(server, order, "CARD")
    body = event_body("payment.succeeded", payload["payment"]["providerReference"], order.total)
    answers = await asyncio.gather(*(send(server, body) for _ in range(5)))
    assert [a.status_code for a in answers] == [200] * 5
    assert sorted(a.json()["status"] for a in answers) == ["duplicate"] * 4 + ["processed"]
    seen = await detail(server, order, customer)
    assert [e["type"] for e in seen["events"]].count("PAYMENT_RECEIVED") == 1
    assert await sql(server, "SELECT count(*) FROM payment_notification") == [(1,)]
    # The same news under another event id changes nothing either.
    again = await gateway_says(
        server, "payment.succeeded", payload["payment"]["providerReference"], order.total
    )
    assert again.json()["status"] == "ignored"
    assert (await detail(server, order, customer))["events"] == seen["events"]


async def test_reordered_webhooks_end_where_the_gateway_ended(
    server: Server, shop: Shop, customer: str
) -> None:
    first = await place(server, shop, ("sock-3", 1), token=customer)
    second = await place(server, shop, ("sock-3", 1), token=customer)
    one, _ = await pay(server, first, "CARD")
    two, _ = await pay(server, second, "CARD")
    ref_one = one["payment"]["providerReference"]
    ref_two = two["payment"]["providerReference"]
    # A late failure after a success is stale news.
    assert (
        await gateway_says(server, "payment.succeeded", ref_one, first.total)
    ).status_code == 200
    late = await gateway_says(server, "payment.failed", ref_one, first.total)
    assert late.json()["status"] == "ignored"
    # A success after a failure is believed: the customer tried again.
    failed = await gateway_says(server, "payment.failed", ref_two, second.total)
    assert failed.json()["status"] == "processed"
    assert [p["status"] for p in (await detail(server, second, customer))["payments"]] == ["FAILED"]
    assert (await gateway_says(server, "payment.succeeded", ref_two, second.total)).is_success
    for order in (first, second):
        seen = await detail(server, order, customer)
        assert seen["status"] == "PAID"
        assert [p["status"] for p in seen["payments"]] == ["SUCCEEDED"]


async def test_a_webhook_that_does_not_match_the_payment_is_refused_and_logged(
    server: Server, shop: Shop, customer: str, caplog: pytest.LogCaptureFixture
) -> None:
    order = await place(server, shop, ("sock-3", 1), token=customer)
    payload, _ = await pay(server, order, "CARD")
    reference = payload["payment"]["providerReference"]
    with caplog.at_level(logging.WARNING, "commerce.payments"):
        cheaper = await gateway_says(server, "payment.succeeded", reference, "0.01")
        other = await send(
            server, event_body("payment.succeeded", reference, order.total, currency="EUR")
        )
        unknown = await gateway_says(server, "payment.succeeded", "sbx_pay_nobody", "1.00")
    assert (cheaper.status_code, cheaper.json()["status"]) == (422, "rejected")
    assert (other.status_code, other.json()["status"]) == (422, "rejected")
    assert (unknown.status_code, unknown.json()["status"]) == (200, "ignored")
    logged = [r.getMessage() for r in caplog.records]
    assert sum("refused" in line for line in logged) == 2
    assert any("sbx_pay_nobody" in line for line in logged)
    seen = await detail(server, order, customer)
    assert (seen["status"], seen["payments"][0]["status"]) == ("UNPAID", "PENDING")
    malformed = await send(server, b'{"id": "evt_1", "type": "payment.maybe"}')
    assert malformed.status_code == 400


async def test_a_success_for_a_cancelled_order_is_refunded_through_the_gateway(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await place(server, shop, ("runner-42", 1), token=customer)
    payload, _ = await pay(server, order, "CARD")
    reference = payload["payment"]["providerReference"]
    cancelled = await server.client.op("OrderCancel", {"id": order.id}, token=customer)
    assert cancelled.data["orderCancel"]["order"]["status"] == "CANCELLED"

    answer = await gateway_says(server, "payment.succeeded", reference, order.total)
    assert answer.status_code == 200
    seen = await detail(server, order, customer)
    assert seen["status"] == "CANCELLED"
    assert seen["payments"][0]["status"] == "SUCCEEDED"
    # The order never took the money: the refund is the payment's, not the order's.
    assert seen["totalRefunded"]["amount"] == "0.00"
    (refund,) = seen["refunds"]
    assert (refund["kind"], refund["status"]) == ("EXCESS", "PENDING")
    assert refund["allocations"] == [
        {"method": "CARD", "amount": {"amount": order.total}, "status": "PENDING"}
    ]
    # The gateway was asked (after the commit) and holds the refund's reference.
    (sent,) = await sql(server, "SELECT provider_reference FROM refund_allocation")
    assert str(sent[0]).startswith("sbx_re_")

    done = await gateway_says(server, "refund.succeeded", reference, order.total)
    assert done.json()["status"] == "processed"
    seen = await detail(server, order, customer)
    assert seen["refunds"][0]["status"] == "SUCCEEDED"
    assert seen["refunds"][0]["allocations"][0]["status"] == "SUCCEEDED"
    assert [e["type"] for e in seen["events"]][-3:] == ["CANCELLED", "REFUND_STARTED", "REFUNDED"]
    again = await gateway_says(server, "refund.succeeded", reference, order.total)
    assert again.json()["status"] == "ignored"


async def test_a_second_card_success_beyond_what_is_due_is_refunded(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await place(server, shop, ("sock-3", 1), token=customer)
    one, _ = await pay(server, order, "CARD")
    two, _ = await pay(server, order, "CARD")  # the customer tried twice, both went through
    for payload in (one, two):
        await gateway_says(
            server, "payment.succeeded", payload["payment"]["providerReference"], order.total
        )
    seen = await detail(server, order, customer)
    assert seen["status"] == "PAID"
    assert seen["totalRefunded"]["amount"] == "0.00"
    assert [(r["amount"]["amount"], r["status"]) for r in seen["refunds"]] == [
        (order.total, "PENDING")
    ]


async def test_cancelling_a_paid_order_gives_every_tender_back(
    server: Server, shop: Shop, customer: str
) -> None:
    await give_points(server, await _user_pk(server, "payer@example.com"), 500)
    await shop.promotion(
        name="Once", kind="FIXED_AMOUNT", value="1.00", couponCode="ONCE", usageLimit=1
    )
    order = await place(server, shop, ("runner-42", 1), token=customer)
    card = await gift_card(shop, "20.00")
    assert (await pay(server, order, "GIFT_CARD", giftCardCode=card["code"]))[1] == []
    assert (await pay(server, order, "POINTS", amount="3.33"))[1] == []  # 333 points
    rest, _ = await pay(server, order, "CARD")
    reference = rest["payment"]["providerReference"]
    amount = rest["payment"]["amount"]["amount"]
    await gateway_says(server, "payment.succeeded", reference, amount)
    assert (await detail(server, order, customer))["status"] == "PAID"
    assert await available(server.client, shop, "runner-42") == 9

    cancelled = await server.client.op(
        "OrderCancel", {"id": order.id, "reason": "changed my mind"}, token=customer
    )
    assert cancelled.data["orderCancel"]["userErrors"] == []
    seen = await detail(server, order, customer)
    assert seen["status"] == "CANCELLED"
    assert seen["totalRefunded"]["amount"] == order.total
    (refund,) = seen["refunds"]
    assert refund["kind"] == "CANCELLATION"
    assert [(a["method"], a["status"]) for a in refund["allocations"]] == [
        ("GIFT_CARD", "SUCCEEDED"), ("POINTS", "SUCCEEDED"), ("CARD", "PENDING"),
    ]  # fmt: skip
    assert await card_balance(server, card["code"]) == 2000
    balance = await server.client.query("{ me { pointsBalance } }", token=customer)
    assert balance.data["me"]["pointsBalance"] == 500
    assert await available(server.client, shop, "runner-42") == 10
    # The card's part was asked of the gateway once the cancellation had committed.
    sent = await sql(
        server, "SELECT provider_reference FROM refund_allocation WHERE method = 'CARD'"
    )
    assert str(sent[0][0]).startswith("sbx_re_")
    await gateway_says(server, "refund.succeeded", reference, amount)
    assert (await detail(server, order, customer))["refunds"][0]["status"] == "SUCCEEDED"
    gift_entries = await sql(server, "SELECT kind, amount FROM gift_card_entry ORDER BY id")
    assert gift_entries == [("ISSUED", 2000), ("PAYMENT", -2000), ("REFUND", 2000)]


async def test_an_overdue_order_gives_back_what_was_paid_of_it(
    server: Server, shop: Shop, customer: str
) -> None:
    from tests.test_checkout import cancel_overdue

    order = await place(server, shop, ("runner-42", 1), token=customer)
    card = await gift_card(shop, "10.00")
    await pay(server, order, "GIFT_CARD", giftCardCode=card["code"])
    await pay(server, order, "CARD")  # started, never finished
    assert await card_balance(server, card["code"]) == 0
    server.clock.advance(minutes=31)
    assert await cancel_overdue(server) == 1
    assert await card_balance(server, card["code"]) == 1000
    seen = await detail(server, order, await sign_in(server.client, "payer@example.com"))
    assert seen["status"] == "CANCELLED"
    assert seen["refunds"][0]["status"] == "SUCCEEDED"
    assert seen["events"][-2]["message"] == "cancelled: not paid in time; stock released"


async def test_a_failed_notification_is_kept_and_replayed(
    server: Server, shop: Shop, customer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = await place(server, shop, ("sock-3", 1), token=customer)
    payload, _ = await pay(server, order, "CARD")
    body = event_body("payment.succeeded", payload["payment"]["providerReference"], order.total)
    real = settlement.credit_order

    async def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(settlement, "credit_order", broken)
    failed = await send(server, body)
    assert failed.status_code == 500
    # Paid at the gateway, not yet for us: the notification holds what happened.
    assert (await detail(server, order, customer))["status"] == "UNPAID"
    staff = await make_staff(server, "inbox@example.com")
    seen = await server.client.query(NOTIFICATIONS, {"state": "FAILED"}, token=staff)
    (node,) = [e["node"] for e in seen.data["paymentNotifications"]["edges"]]
    assert node["error"] == "RuntimeError: the database went away"
    assert node["attempts"] == 1
    assert (await detail(server, order, customer))["payments"][0]["status"] == "PENDING"

    monkeypatch.setattr(settlement, "credit_order", real)
    replayed = await server.client.query(REPLAY, {"id": node["id"]}, token=staff)
    result = replayed.data["paymentNotificationReplay"]
    assert result["userErrors"] == []
    assert result["notification"] == {"state": "PROCESSED", "error": "", "attempts": 2}
    assert (await detail(server, order, customer))["status"] == "PAID"
    # The gateway's own retry of the event now finds it done.
    retry = await send(server, body)
    assert (retry.status_code, retry.json()["status"]) == (200, "duplicate")


async def test_the_gateways_retry_of_a_failed_event_applies_it(
    server: Server, shop: Shop, customer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = await place(server, shop, ("sock-3", 1), token=customer)
    payload, _ = await pay(server, order, "CARD")
    body = event_body("payment.succeeded", payload["payment"]["providerReference"], order.total)
    real = settlement.credit_order

    async def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(settlement, "credit_order", broken)
    assert (await send(server, body)).status_code == 500
    monkeypatch.setattr(settlement, "credit_order", real)
    retry = await send(server, body)
    assert (retry.status_code, retry.json()["status"]) == (200, "processed")
    assert (await detail(server, order, customer))["status"] == "PAID"


async def test_a_guest_pays_with_the_order_id_it_was_given(server: Server, shop: Shop) -> None:
    from app import ids

    order = await place(server, shop, ("sock-3", 1), email="guest@example.com")
    key = ids.ORDER.decode(order.id)
    assert key is not None
    assert key.proof is not None
    # The bare row id (guessable) opens nothing; nor does another customer's session.
    bare = ids.ORDER.encode(ids.OrderKey(key.order_id))
    _, errors = await pay(server, bare, "CARD")
    assert [e["code"] for e in errors] == ["NOT_FOUND"]
    stranger = await make_customer(server, "nosy@example.com")
    _, errors = await pay(server, bare, "CARD", token=stranger)
    assert [e["code"] for e in errors] == ["NOT_FOUND"]
    payload, errors = await pay(server, order, "CARD")
    assert errors == []
    assert payload["order"]["status"] == "UNPAID"
    _, errors = await pay(server, order, "POINTS")
    assert [e["code"] for e in errors] == ["INVALID"]


async def test_gift_cards_are_issued_by_gift_card_staff(server: Server, shop: Shop) -> None:
    made = await gift_card(shop, "25.00")
    assert len(made["code"]) == 16
    assert made["balance"] == {"amount": "25.00", "currency": "USD"}
    again = await server.client.op(
        "GiftCardCreate",
        {"input": {"initialBalance": "5.00", "code": made["code"].lower()}},
        token=shop.staff,
    )
    assert [e["code"] for e in again.data["giftCardCreate"]["userErrors"]] == ["ALREADY_EXISTS"]
    bad = await server.client.op(
        "GiftCardCreate", {"input": {"initialBalance": "-1", "code": "x"}}, token=shop.staff
    )
    assert sorted(e["field"][-1] for e in bad.data["giftCardCreate"]["userErrors"]) == [
        "initialBalance"
    ]
    clerk = await make_staff(server, "clerk@example.com", frozenset())
    refused = await server.client.op(
        "GiftCardCreate", {"input": {"initialBalance": "5.00"}}, token=clerk
    )
    assert [e["code"] for e in refused.data["giftCardCreate"]["userErrors"]] == [
        "PERMISSION_DENIED"
    ]


async def test_a_refund_the_gateway_did_not_take_is_sent_again_by_the_upkeep(
    server: Server, shop: Shop, customer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.maintenance import run_once
    from app.payments.gateways.sandbox import SandboxGateway

    order = await place(server, shop, ("sock-3", 1), token=customer)
    payload, _ = await pay(server, order, "CARD")
    reference = payload["payment"]["providerReference"]
    await gateway_says(server, "payment.succeeded", reference, order.total)
    real = SandboxGateway.refund

    async def down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("the gateway is down")

    monkeypatch.setattr(SandboxGateway, "refund", down)
    cancelled = await server.client.op("OrderCancel", {"id": order.id}, token=customer)
    assert cancelled.data["orderCancel"]["userErrors"] == []  # the cancellation stands
    unsent = "SELECT provider_reference FROM refund_allocation"
    assert await sql(server, unsent) == [(None,)]
    monkeypatch.setattr(SandboxGateway, "refund", real)
    assert (await run_once(server.services, server.clock(), purge_carts=False))["refunds_sent"] == 0
    server.clock.advance(minutes=2)
    assert (await run_once(server.services, server.clock(), purge_carts=False))["refunds_sent"] == 1
    assert str((await sql(server, unsent))[0][0]).startswith("sbx_re_")
    assert (await run_once(server.services, server.clock(), purge_carts=False))["refunds_sent"] == 0


async def test_a_success_racing_the_expiry_ends_paid_or_refunded_never_both(
    server: Server, shop: Shop
) -> None:
    from tests.test_checkout import cancel_overdue

    orders = [await place(server, shop, ("sock-3", 1)) for _ in range(4)]
    payments = [(await pay(server, order, "CARD"))[0]["payment"] for order in orders]
    server.clock.advance(minutes=31)
    await asyncio.gather(
        cancel_overdue(server),
        *(
            gateway_says(server, "payment.succeeded", p["providerReference"], o.total)
            for p, o in zip(payments, orders, strict=True)
        ),
    )
    staff = await make_staff(server, "auditor@example.com")
    paid = 0
    for order in orders:
        seen = await detail(server, order, staff)
        paid += seen["status"] == "PAID"
        assert seen["payments"][0]["status"] == "SUCCEEDED"
        if seen["status"] == "PAID":
            assert seen["refunds"] == []
        else:
            assert seen["status"] == "CANCELLED"
            assert [(r["kind"], r["amount"]["amount"]) for r in seen["refunds"]] == [
                ("EXCESS", order.total)
            ]
    assert await available(server.client, shop, "sock-3") == 100 - paid
