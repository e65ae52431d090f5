"""Emails to customers through a real SMTP server (aiosmtpd, in process): the order
confirmation once paid, refunds and cancellations; sent after the commit, never
failing or slowing the order; retried by the upkeep until the server is back; kept in
the outbox for staff, where they stay without a mail server."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from app.accounts.permissions import Permission
from app.maintenance import run_once
from app.settings import Settings
from tests.conftest import Server, make_customer, make_staff
from tests.mail import PASSWORD, USER, MailServer
from tests.orders import gift_card, lines_of, paid, pay, place, refund
from tests.shop import Shop, build_shop, sql
from tests.support import BlackHole

OUTBOX = """
query($status: EmailStatus) { emailOutbox(first: 10, status: $status) {
  edges { node { id to subject text orderNumber status attempts lastError sentAt } } } }
"""


@pytest.fixture
def mail() -> MailServer:
    return MailServer()


@pytest.fixture
def mail_settings() -> dict[str, Any]:
    """What a test changes of the mail settings (parametrize it)."""
    return {}


@pytest.fixture
def settings(settings: Settings, mail: MailServer, mail_settings: dict[str, Any]) -> Settings:
    return settings.with_overrides(
        **{"smtp_url": mail.url, "email_from": "Shop <shop@example.com>", **mail_settings}
    )


@pytest.fixture
async def mail_up(mail: MailServer) -> AsyncIterator[MailServer]:
    await mail.start()
    yield mail
    await mail.stop()


@pytest.fixture
async def shop(server: Server) -> Shop:
    return await build_shop(server)


@pytest.fixture
async def customer(server: Server) -> str:
    return await make_customer(server, "mailme@example.com")


async def outbox(server: Server) -> list[tuple[Any, ...]]:
    return await sql(
        server, "SELECT subject, status, attempts, last_error FROM email_outbox ORDER BY id"
    )


async def test_the_confirmation_refund_and_cancellation_emails_arrive(
    server: Server, shop: Shop, customer: str, mail_up: MailServer
) -> None:
    order = await paid(server, shop, ("sock-3", 2), token=customer)
    await server.services.mailer.drain()
    (received,) = mail_up.received
    message = received.message
    assert received.recipients == ["mailme@example.com"]
    assert message["To"] == "mailme@example.com"
    assert message["From"] == "Shop <shop@example.com>"
    assert message["Subject"] == f"Order {order.number} confirmed"
    body = message.get_content()
    assert f"Total: {order.total} USD" in body
    assert "2 x Sock (SOCK-3)" in body
    assert mail_up.logins == [(USER, PASSWORD)]
    # Sent once; the upkeep finds nothing left to send.
    assert await outbox(server) == [(f"Order {order.number} confirmed", "SENT", 1, "")]
    assert (await run_once(server.services, server.clock(), purge_carts=False))["emails_sent"] == 0

    sock = (await lines_of(server, order, customer))["lines"][0]
    given = await refund(server, shop, order, [(sock["id"], 1)], reason="one was torn")
    assert given["userErrors"] == []
    unpaid = await place(server, shop, ("tote-red", 1), token=customer)
    cancelled = await server.client.op(
        "OrderCancel", {"id": unpaid.id, "reason": "ordered twice"}, token=customer
    )
    assert cancelled.data["orderCancel"]["userErrors"] == []
    await server.services.mailer.drain()
    subjects = [r.message["Subject"] for r in mail_up.received]
    assert subjects == [
        f"Order {order.number} confirmed",
        f"Refund for order {order.number}",
        f"Order {unpaid.number} cancelled",
    ]
    refunded = mail_up.received[1].message.get_content()
    assert f"We have refunded {given['refund']['amount']['amount']} USD" in refunded
    assert "one was torn" in refunded
    assert "ordered twice" in mail_up.received[2].message.get_content()


async def test_a_paid_order_cancelled_tells_what_goes_back(
    server: Server, shop: Shop, customer: str, mail_up: MailServer
) -> None:
    order = await place(server, shop, ("sock-3", 1), token=customer)
    card = await gift_card(shop, "50.00")
    assert (await pay(server, order, "GIFT_CARD", giftCardCode=card["code"]))[1] == []
    cancelled = await server.client.op("OrderCancel", {"id": order.id}, token=customer)
    assert cancelled.data["orderCancel"]["userErrors"] == []
    await server.services.mailer.drain()
    assert [r.message["Subject"] for r in mail_up.received] == [
        f"Order {order.number} confirmed",
        f"Order {order.number} cancelled",
    ]
    assert f"{order.total} USD goes back" in mail_up.received[1].message.get_content()


async def test_with_the_mail_server_down_orders_succeed_and_mail_goes_out_once_it_is_back(
    server: Server, shop: Shop, customer: str, mail: MailServer
) -> None:
    order = await place(server, shop, ("sock-3", 1), token=customer)
    card = await gift_card(shop, "50.00")
    payload, errors = await pay(server, order, "GIFT_CARD", giftCardCode=card["code"])
    assert errors == []
    assert payload["order"]["status"] == "PAID"
    await server.services.mailer.drain()
    ((subject, status, attempts, error),) = await outbox(server)
    assert (subject, status, attempts) == (f"Order {order.number} confirmed", "PENDING", 1)
    assert error  # why the mail server did not take it

    await mail.start()
    try:
        # Not before its backoff has passed (a minute after the first try)...
        done = await run_once(server.services, server.clock(), purge_carts=False)
        assert done["emails_sent"] == 0
        server.clock.advance(seconds=61)
        done = await run_once(server.services, server.clock(), purge_carts=False)
        assert done["emails_sent"] == 1
        assert [r.message["Subject"] for r in mail.received] == [f"Order {order.number} confirmed"]
        assert await outbox(server) == [(f"Order {order.number} confirmed", "SENT", 2, "")]
        # ... and once.
        server.clock.advance(hours=2)
        done = await run_once(server.services, server.clock(), purge_carts=False)
        assert done["emails_sent"] == 0
        assert len(mail.received) == 1
    finally:
        await mail.stop()


@pytest.mark.parametrize("mail_settings", [{"email_max_attempts": 2}])
async def test_an_email_is_given_up_after_its_tries(
    server: Server, shop: Shop, customer: str, mail: MailServer
) -> None:
    order = await paid(server, shop, ("sock-3", 1), token=customer)
    await server.services.mailer.drain()
    server.clock.advance(seconds=61)
    await run_once(server.services, server.clock(), purge_carts=False)
    ((subject, status, attempts, error),) = await outbox(server)
    assert (subject, status, attempts) == (f"Order {order.number} confirmed", "FAILED", 2)
    assert error
    server.clock.advance(hours=3)
    await mail.start()
    try:
        done = await run_once(server.services, server.clock(), purge_carts=False)
        assert done["emails_sent"] == 0
        assert mail.received == []
    finally:
        await mail.stop()


@pytest.mark.parametrize("mail_settings", [{"smtp_timeout_seconds": 3}])
async def test_a_mail_server_that_hangs_does_not_slow_the_order(
    server: Server, shop: Shop, customer: str, settings: Settings
) -> None:
    hole = BlackHole()
    await hole.start()
    try:
        server.services.mailer.transport.port = hole.port  # type: ignore[union-attr]
        order = await place(server, shop, ("sock-3", 1), token=customer)
        card = await gift_card(shop, "50.00")
        started = time.monotonic()
        payload, errors = await pay(server, order, "GIFT_CARD", giftCardCode=card["code"])
        elapsed = time.monotonic() - started
        assert errors == []
        assert payload["order"]["status"] == "PAID"
        assert elapsed < 2.0, elapsed  # the mail server's 3 s are not the customer's
        await server.services.mailer.drain()
        ((_, status, attempts, error),) = await outbox(server)
        assert (status, attempts) == ("PENDING", 1)
        assert "Timeout" in error or "timed out" in error.lower()
    finally:
        await hole.stop()


@pytest.mark.parametrize("mail_settings", [{"smtp_url": None}])
async def test_without_a_mail_server_emails_wait_in_the_outbox_for_staff(
    server: Server, shop: Shop, customer: str
) -> None:
    order = await paid(server, shop, ("sock-3", 1), token=customer)
    done = await run_once(server.services, server.clock(), purge_carts=False)
    assert done["emails_sent"] == 0
    manager = await make_staff(server, "orders@example.com", frozenset({Permission.MANAGE_ORDERS}))
    seen = await server.client.query(OUTBOX, {"status": "PENDING"}, token=manager)
    (node,) = [e["node"] for e in seen.data["emailOutbox"]["edges"]]
    assert node["to"] == "mailme@example.com"
    assert node["subject"] == f"Order {order.number} confirmed"
    assert node["orderNumber"] == order.number
    assert (node["status"], node["attempts"], node["sentAt"]) == ("PENDING", 0, None)
    assert f"Total: {Decimal(order.total)} USD" in node["text"]
    # Customers' emails are for staff who manage orders only.
    for token in (customer, await make_staff(server, "c@example.com", frozenset())):
        refused = await server.client.query(OUTBOX, {}, token=token)
        assert refused.error_codes == ["PERMISSION_DENIED"]
    sent = await server.client.query(OUTBOX, {"status": "SENT"}, token=manager)
    assert sent.data["emailOutbox"]["edges"] == []


async def test_an_order_that_rolls_back_sends_nothing(
    server: Server, shop: Shop, customer: str, mail_up: MailServer
) -> None:
    order = await place(server, shop, ("sock-3", 1), token=customer)
    _, errors = await pay(server, order, "GIFT_CARD", giftCardCode="NOSUCHCARD1")
    assert [e["code"] for e in errors] == ["NOT_FOUND"]
    await server.services.mailer.drain()
    assert mail_up.received == []
    assert await outbox(server) == []
