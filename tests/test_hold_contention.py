"""Flash-sale holds under a rush: many carts adding, abandoning and checking out the
same few reserve-on-add units while holds expire and the upkeep runs."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

from app.maintenance import run_once
from app.settings import Settings
from tests.conftest import PASSWORD, Server, make_customer
from tests.shop import ADDRESS, Shop, build_shop, sql
from tests.support import GraphQLClient, Result

CLIENTS = 12
CUSTOMERS = 4  # the first clients are signed in; the others are guests
ROUNDS = 5
# sku -> units per warehouse: a handful of units for a dozen buyers.
DROP = {"drop-a": [2, 2], "drop-b": [2, 1], "drop-c": [1, 2], "drop-d": [2, 2]}
RUSH = {"rush-x": [3, 1], "rush-y": [1, 3]}


@dataclass
class Rush:
    """What every client saw: failures are responses that are not a clean 200."""

    api: GraphQLClient
    shop: Shop
    server: Server
    failures: list[tuple[str, int, Any]] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)

    async def send(self, name: str, variables: dict[str, Any], token: str | None) -> Any:
        """The operation's one root field, or None when it did not come back as a clean 200."""
        result: Result = await self.api.op(name, variables, token=token)
        self.calls[name] += 1
        if result.status != 200 or result.errors:
            self.failures.append((name, result.status, result.error_codes))
            return None
        return next(iter(result.body["data"].values()))

    def lines(self, skus: list[str], quantity: int = 1) -> list[dict[str, Any]]:
        return [{"variantId": self.shop.variants[s], "quantity": quantity} for s in skus]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The clock runs fast here; customers' access tokens outlive it.
    return settings.with_overrides(access_token_ttl_seconds=24 * 3600)


async def _shop(server: Server) -> Shop:
    shop = await build_shop(server)
    for slug, variants in (("drop", DROP), ("rush", RUSH)):
        await shop.product(
            slug, [(sku, "9.00", stock) for sku, stock in variants.items()], reserve_on_add=True
        )
    return shop


async def _client(rush: Rush, number: int, email: str | None, token: str | None) -> None:
    chosen = random.Random(number)
    skus = [*DROP, *RUSH]
    for round_ in range(ROUNDS):
        # Every client's progress moves time on: holds run out and orders go overdue meanwhile.
        rush.server.clock.advance(minutes=2)
        first, *more = chosen.sample(skus, 3)
        merge = email is not None and round_ % 2 == 1
        owner = None if merge else token
        created = await rush.send("CartCreate", {"lines": rush.lines([first])}, owner)
        if created is None:
            continue
        if created["cart"] is None:  # sold out: start empty
            created = await rush.send("CartCreate", {"lines": []}, owner)
            if created is None or created["cart"] is None:
                continue
        cart_id = created["cart"]["id"]
        if merge:
            signed = await rush.send(
                "TokenCreate", {"email": email, "password": PASSWORD, "cartId": cart_id}, None
            )
            if signed is None or signed["cart"] is None:
                continue
            cart_id = signed["cart"]["id"]
        await rush.send("CartLinesAdd", {"cartId": cart_id, "lines": rush.lines(more)}, token)
        cart = await rush.send("Cart", {"id": cart_id}, token)
        if cart and cart["lines"]:
            line = chosen.choice(cart["lines"])
            change = [{"lineId": line["id"], "quantity": chosen.randint(0, 2)}]
            await rush.send("CartLinesUpdate", {"cartId": cart_id, "lines": change}, token)
        if chosen.random() < 0.4:
            continue  # abandoned: its holds run out as the clock moves
        await rush.send("CartShippingAddressSet", {"cartId": cart_id, "address": ADDRESS}, token)
        method = {"cartId": cart_id, "shippingMethodId": rush.shop.shipping["Standard"]}
        await rush.send("CartShippingMethodSelect", method, token)
        data = {"acceptTerms": True, "idempotencyKey": uuid.uuid4().hex}
        if token is None:
            data["email"] = f"guest{number}@example.com"
        await rush.send("CheckoutComplete", {"cartId": cart_id, "input": data}, token)


async def _upkeep(rush: Rush, done: asyncio.Event) -> int:
    rounds = 0
    while not done.is_set():
        try:
            await run_once(rush.server.services, rush.server.clock(), purge_carts=True)
        except Exception as exc:  # recorded, and the upkeep goes on as the real loop does
            rush.failures.append(("upkeep", 0, repr(exc)[:200]))
        rounds += 1
        await asyncio.sleep(0.005)
    return rounds


async def _stock_and_holds(server: Server) -> list[tuple[int, str, int, int, int]]:
    """(stock id, sku, quantity, reserved, units in holds) of every rushed stock row."""
    rows = await sql(
        server,
        "SELECT s.id, v.sku, s.quantity, s.reserved,"
        " (SELECT coalesce(sum(h.quantity), 0) FROM stock_hold h WHERE h.stock_id = s.id)"
        " FROM stock s JOIN product_variant v ON v.id = s.variant_id"
        " WHERE v.sku LIKE 'drop-%' OR v.sku LIKE 'rush-%' ORDER BY s.id",
    )
    return [(int(a), str(b), int(c), int(d), int(e)) for a, b, c, d, e in rows]


async def _sold(server: Server) -> dict[str, int]:
    rows = await sql(
        server,
        "SELECT l.sku, sum(l.quantity) FROM order_line l JOIN shop_order o ON o.id = l.order_id"
        " WHERE o.status <> 'CANCELLED' GROUP BY l.sku",
    )
    return {str(sku): int(units) for sku, units in rows}


def _check_books(rows: list[tuple[int, str, int, int, int]], sold: dict[str, int]) -> None:
    for stock_id, sku, quantity, reserved, held in rows:
        assert 0 <= reserved <= quantity, (stock_id, sku, quantity, reserved)
        assert reserved == held, f"stock {stock_id} ({sku}): reserved {reserved}, held {held}"
    initial = {sku: sum(units) for sku, units in {**DROP, **RUSH}.items()}
    on_hand = Counter[str]()
    for _, sku, quantity, _, _ in rows:
        on_hand[sku] += quantity
    for sku, units in initial.items():
        assert sold.get(sku, 0) <= units, f"{sku} oversold: {sold.get(sku, 0)} of {units}"
        assert on_hand[sku] + sold.get(sku, 0) == units, (sku, on_hand[sku], sold.get(sku, 0))


async def test_a_rush_on_held_units_never_fails_and_never_oversells(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    shop = await _shop(server)
    rush = Rush(server.client, shop, server)
    emails = [f"rusher{n}@example.com" for n in range(CUSTOMERS)]
    tokens = [await make_customer(server, email) for email in emails]
    done = asyncio.Event()
    upkeep = asyncio.ensure_future(_upkeep(rush, done))
    try:
        await asyncio.gather(
            *(
                _client(
                    rush,
                    n,
                    emails[n] if n < CUSTOMERS else None,
                    tokens[n] if n < CUSTOMERS else None,
                )
                for n in range(CLIENTS)
            )
        )
    finally:
        done.set()
        upkeep_rounds = await upkeep
    assert upkeep_rounds > 0
    assert rush.failures == [], (
        f"{len(rush.failures)} of {sum(rush.calls.values())} requests failed: "
        f"{Counter(name for name, _, _ in rush.failures)}"
    )
    assert rush.calls["CheckoutComplete"] > 0
    # Locks are taken in one order, so nothing needed the retry that backs it up.
    retried = [r.getMessage() for r in caplog.records if r.name == "commerce.database"]
    assert retried == []
    _check_books(await _stock_and_holds(server), await _sold(server))
    # Once every hold has run out and the upkeep has been round, nothing is reserved.
    server.clock.advance(minutes=16)
    await run_once(server.services, server.clock(), purge_carts=True)
    rows = await _stock_and_holds(server)
    assert [r for r in rows if r[3] != 0] == []
    _check_books(rows, await _sold(server))
