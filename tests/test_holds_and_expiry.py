"""Flash-sale holds, cart expiry and where orders ship from."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.cart.purge import purge_expired
from app.inventory import holds
from app.inventory.allocation import StockRow, Take, plan
from app.inventory.locking import lock
from app.inventory.models import StockHold
from app.maintenance import run_once
from tests.conftest import Server
from tests.shop import Shop, build_shop, cart_op, sql, stock_rows
from tests.support import GraphQLClient
from tests.test_checkout import available, checkout, ready_cart


@pytest.fixture
async def shop(server: Server) -> Shop:
    shop = await build_shop(server)
    await shop.product("flash", [("flash-1", "9.00", [2, 1])], reserve_on_add=True)
    return shop


async def add(api: GraphQLClient, shop: Shop, sku: str, quantity: int) -> tuple[dict | None, list]:  # type: ignore[type-arg]
    return await cart_op(
        api, "CartCreate", {"lines": [{"variantId": shop.variants[sku], "quantity": quantity}]}
    )


async def test_a_held_unit_cannot_be_taken_by_anyone_else(server: Server, shop: Shop) -> None:
    api = server.client
    first, errors = await add(api, shop, "flash-1", 3)
    assert errors == []
    assert first is not None
    until = first["lines"][0]["reservedUntil"]
    assert until is not None
    assert await available(api, shop, "flash-1") == 0
    _, errors = await add(api, shop, "flash-1", 1)
    assert errors[0]["code"] == "INSUFFICIENT_STOCK"
    assert errors[0]["message"] == "only 0 of flash-1 available"
    # Lowering the quantity gives units back at once.
    line = first["lines"][0]["id"]
    lower, errors = await cart_op(
        api, "CartLinesUpdate", {"cartId": first["id"], "lines": [{"lineId": line, "quantity": 1}]}
    )
    assert errors == []
    assert await available(api, shop, "flash-1") == 2
    second, errors = await add(api, shop, "flash-1", 2)
    assert errors == []
    # Removing the line ends its hold.
    await cart_op(api, "CartLinesRemove", {"cartId": first["id"], "lineIds": [line]})
    assert await available(api, shop, "flash-1") == 1
    assert lower is not None
    assert second is not None


async def test_holds_expire_and_the_units_go_to_the_next_buyer(server: Server, shop: Shop) -> None:
    api = server.client
    first, _ = await add(api, shop, "flash-1", 3)
    assert first is not None
    server.clock.advance(minutes=15, seconds=1)
    late, errors = await add(api, shop, "flash-1", 2)
    assert errors == [], "the expired hold was released for the next buyer"
    assert late is not None
    stale = (await api.op("Cart", {"id": first["id"]})).data["cart"]["lines"][0]
    assert stale["reservedUntil"] is None
    assert stale["stockStatus"] == "LOW_STOCK"  # one unit left for it


async def test_checkout_turns_a_hold_into_a_sale(server: Server, shop: Shop) -> None:
    api = server.client
    cart_id = await ready_cart(api, shop, ("flash-1", 3))
    order, errors = await checkout(api, cart_id)
    assert errors == []
    assert order is not None
    assert await stock_rows(server, "flash-1") == [(0, 0), (0, 0)]
    assert await sql(server, "SELECT count(*) FROM stock_hold") == [(0,)]


async def test_idle_carts_expire_and_are_purged_with_their_holds(
    server: Server, shop: Shop
) -> None:
    api = server.client
    cart, _ = await add(api, shop, "flash-1", 2)
    assert cart is not None
    server.clock.advance(days=30, seconds=1)
    expired = await api.op("Cart", {"id": cart["id"]})
    assert expired.error_codes == ["CART_EXPIRED"]
    _, errors = await cart_op(
        api,
        "CartLinesAdd",
        {"cartId": cart["id"], "lines": [{"variantId": shop.variants["sock-3"], "quantity": 1}]},
    )
    assert errors[0]["code"] == "CART_EXPIRED"
    done = await run_once(server.services, server.clock(), purge_carts=True)
    assert done["carts_purged"] >= 1
    async with server.services.db.transaction() as session:
        assert await purge_expired(session, server.clock()) == 0
    assert (await api.op("Cart", {"id": cart["id"]})).error_codes == ["NOT_FOUND"]
    assert await available(api, shop, "flash-1") == 3


def test_one_warehouse_ships_everything_when_it_can() -> None:
    rows = [
        StockRow(1, variant_id=10, warehouse_id=1, available=5),
        StockRow(2, variant_id=20, warehouse_id=1, available=0),
        StockRow(3, variant_id=10, warehouse_id=2, available=2),
        StockRow(4, variant_id=20, warehouse_id=2, available=3),
    ]
    assert plan({10: 2, 20: 1}, rows) == [Take(3, 10, 2, 2), Take(4, 20, 2, 1)]
    # Warehouse 2 cannot send 4 of variant 10: the fewest warehouses split the order.
    assert plan({10: 4, 20: 1}, rows) == [Take(1, 10, 1, 4), Take(4, 20, 2, 1)]
    assert plan({10: 7, 20: 1}, rows) == [Take(1, 10, 1, 5), Take(3, 10, 2, 2), Take(4, 20, 2, 1)]
    assert plan({10: 8}, rows) == {10: 7}


async def test_a_hold_released_twice_gives_its_units_back_once(server: Server, shop: Shop) -> None:
    cart, _ = await add(server.client, shop, "flash-1", 2)
    assert cart is not None
    async with server.services.db.transaction() as session:
        held = list((await session.exec(select(StockHold))).all())
        locked = await lock(session, stock_ids={h.stock_id for h in held})
        await holds.release(session, locked, holds=[h.id for h in held if h.id])
        # As a concurrent releaser would:
        await holds.release(session, locked, holds=[h.id for h in held if h.id])
    assert await stock_rows(server, "flash-1") == [(1, 0), (2, 0)]
