"""Inventory: the one writer of stock rows and holds, returns, moves between warehouses."""

from __future__ import annotations

import ast
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import greenlet
import pytest
from sqlalchemy import event

from app.errors import DomainError
from app.inventory import levels
from app.inventory.allocation import units_by_row
from app.inventory.returns import ReturnedUnits, return_units
from app.maintenance import run_once
from tests.conftest import PASSWORD, Server, make_customer
from tests.shop import WAREHOUSE, Shop, build_shop, cart_op, sql, stock_rows
from tests.test_checkout import checkout, ready_cart

ROOT = Path(__file__).resolve().parent.parent
INVENTORY = ROOT / "app" / "inventory"
SOURCES = [ROOT / "app", ROOT / "resolvers", ROOT / "schema"]
STOCK_TABLES = {"Stock", "StockHold"}
WRITE_CALLS = {"update", "insert", "delete", "pg_insert", "sqlite_insert"}
# Calls that may name the stock tables without writing them.
READ_CALLS = {"select", "get", "col", "aliased", "isinstance", "exists", "join", "outerjoin"}
WRITE_SQL = re.compile(r"\b(update|insert\s+into|delete\s+from)\s+stock(_hold)?\b", re.I)


@pytest.fixture
async def shop(server: Server) -> Shop:
    return await build_shop(server)


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _stock_writes(path: Path) -> Iterator[str]:
    """Places in a module that write, or hand for writing, the stock tables."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call):
            callee = _name(node.func)
            named = [a for a in node.args if _name(a) in STOCK_TABLES]
            if callee in STOCK_TABLES:
                yield f"{where}: builds a {callee} row"
            elif named and callee not in READ_CALLS:
                yield f"{where}: {callee}({_name(named[0])}, ...)"
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if WRITE_SQL.search(node.value):
                yield f"{where}: SQL text writes stock"
        elif isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Attribute) and t.attr == "reserved" for t in targets):
                yield f"{where}: assigns .reserved"


def _modules(*roots: Path) -> Iterator[Path]:
    for root in roots:
        yield from sorted(root.rglob("*.py"))


def test_only_inventory_writes_stock_and_holds_in_its_source() -> None:
    outside = [
        found
        for path in _modules(*SOURCES)
        if INVENTORY not in path.parents
        for found in _stock_writes(path)
    ]
    assert outside == []
    # The check sees writes where they are: inventory's own.
    inside = [found for path in _modules(INVENTORY) for found in _stock_writes(path)]
    assert any("holds.py" in found for found in inside)
    assert any("levels.py" in found for found in inside)


def _frames() -> Iterator[FrameType]:
    """The Python frames that led here, across the greenlets SQLAlchemy's async layer
    runs the driver in."""
    frame: FrameType | None = sys._getframe(1)
    current: Any = greenlet.getcurrent()
    while current is not None:
        while frame is not None:
            yield frame
            frame = frame.f_back
        current = current.parent
        frame = current.gr_frame if current is not None else None


def _project_caller() -> Path | None:
    """The innermost frame in the server's own code (app, resolvers, schema)."""
    for frame in _frames():
        path = Path(frame.f_code.co_filename)
        if any(root in path.parents for root in SOURCES):
            return path
    return None


async def test_every_stock_write_of_a_shop_day_comes_from_inventory(server: Server) -> None:
    """Products with stock, a stock edit, held carts changed, merged, ordered, abandoned,
    an order cancelled, carts purged: each statement writing stock rows or holds is sent
    by `app.inventory`."""
    writers: list[tuple[str, Path | None]] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if WRITE_SQL.search(statement):
            writers.append((statement.split("(")[0][:40], _project_caller()))

    engine = server.services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        await _shop_day(server)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    kinds = {statement.split()[0].upper() for statement, _ in writers}
    assert kinds == {"INSERT", "UPDATE", "DELETE"}, writers
    assert [(s, p) for s, p in writers if p is None or INVENTORY not in p.parents] == []


async def _shop_day(server: Server) -> None:
    api = server.client
    shop = await build_shop(server)
    await shop.product("flash", [("flash-1", "9.00", [3, 3])], reserve_on_add=True)
    await shop.admin(
        "StockSet",
        {"variantId": shop.variants["sock-3"], "warehouseId": shop.warehouses[0], "quantity": 60},
    )
    customer = await make_customer(server, "day@example.com")
    mine, _ = await cart_op(
        api,
        "CartCreate",
        {"lines": [{"variantId": shop.variants["flash-1"], "quantity": 1}]},
        customer,
    )
    guest, _ = await cart_op(
        api, "CartCreate", {"lines": [{"variantId": shop.variants["flash-1"], "quantity": 2}]}
    )
    assert mine is not None
    assert guest is not None
    line = guest["lines"][0]["id"]
    await cart_op(
        api, "CartLinesUpdate", {"cartId": guest["id"], "lines": [{"lineId": line, "quantity": 1}]}
    )
    signed = await api.op(
        "TokenCreate", {"email": "day@example.com", "password": PASSWORD, "cartId": guest["id"]}
    )
    assert signed.data["tokenCreate"]["userErrors"] == []
    order, errors = await checkout(
        api, await ready_cart(api, shop, ("flash-1", 1), ("sock-3", 2)), key="day"
    )
    assert (order is not None, errors) == (True, [])
    await ready_cart(api, shop, ("flash-1", 1))  # abandoned with its hold
    server.clock.advance(days=31)
    done = await run_once(server.services, server.clock(), purge_carts=True)
    assert done["orders_cancelled"] == 1
    assert done["carts_purged"] >= 1


async def test_refunded_units_go_back_where_they_came_from(server: Server, shop: Shop) -> None:
    api = server.client
    await shop.product("split", [("split-1", "5.00", [2, 3])])
    order, errors = await checkout(api, await ready_cart(api, shop, ("split-1", 4)))
    assert errors == []
    assert order is not None
    assert await stock_rows(server, "split-1") == [(0, 0), (1, 0)]
    ((allocations,),) = await sql(
        server, "SELECT allocations FROM order_line WHERE sku = 'split-1'"
    )
    if isinstance(allocations, str):  # SQLite hands JSON back as text
        allocations = json.loads(allocations)
    db = server.services.db
    async with db.transaction() as session:
        await return_units(session, [ReturnedUnits(allocations, 1)])
    async with db.transaction() as session:
        await return_units(session, [ReturnedUnits(allocations, 2, earlier=1)])
    # Three of the four are back, each on a shelf it was taken from.
    assert sum(q for q, _ in await stock_rows(server, "split-1")) == 4
    taken_from = {a["stockId"]: a["quantity"] for a in allocations}
    assert len(taken_from) == 2
    with pytest.raises(ValueError, match="more units"):
        async with db.transaction() as session:
            await return_units(session, [ReturnedUnits(allocations, 2, earlier=3)])


def test_units_by_row_follows_the_allocations_after_earlier_returns() -> None:
    records = [
        {"stockId": 7, "warehouseId": 1, "quantity": 2},
        {"stockId": 9, "warehouseId": 2, "quantity": 3},
    ]
    assert units_by_row(records, 5) == {7: 2, 9: 3}
    assert units_by_row(records, 1) == {7: 1}
    assert units_by_row(records, 2, earlier=1) == {7: 1, 9: 1}
    assert units_by_row(records, 3, earlier=2) == {9: 3}
    with pytest.raises(ValueError, match="more units"):
        units_by_row(records, 1, earlier=5)


async def test_units_move_between_warehouses(server: Server, shop: Shop) -> None:
    api = server.client
    db = server.services.db
    result = await api.query(WAREHOUSE, {"n": "Munich", "c": "MUC"}, token=shop.staff)
    munich = int((await sql(server, "SELECT id FROM warehouse WHERE code = 'MUC'"))[0][0])
    assert result.data["warehouseCreate"]["warehouse"]["id"]
    berlin, hamburg = (
        int(row[0])
        for row in await sql(
            server, "SELECT id FROM warehouse WHERE code IN ('BER', 'HAM') ORDER BY code"
        )
    )
    runner = int(
        (await sql(server, "SELECT id FROM product_variant WHERE sku = 'runner-42'"))[0][0]
    )
    async with db.transaction() as session:
        source, target = await levels.move(session, runner, berlin, hamburg, 2, server.clock())
    assert (source.quantity, target.quantity) == (3, 7)
    # A warehouse without the variant gets a stock row for it.
    async with db.transaction() as session:
        source, target = await levels.move(session, runner, hamburg, munich, 7, server.clock())
    assert (source.quantity, target.quantity, target.reserved) == (0, 7, 0)
    assert sorted(await stock_rows(server, "runner-42")) == [(0, 0), (3, 0), (7, 0)]
    for wanted, code in ((4, "INSUFFICIENT_STOCK"), (0, "INVALID")):
        with pytest.raises(DomainError) as refused:
            async with db.transaction() as session:
                await levels.move(session, runner, berlin, hamburg, wanted, server.clock())
        assert refused.value.code == code
    with pytest.raises(DomainError) as same:
        async with db.transaction() as session:
            await levels.move(session, runner, berlin, berlin, 1, server.clock())
    assert same.value.problems[0].field == ("to_warehouse_id",)
    assert sorted(await stock_rows(server, "runner-42")) == [(0, 0), (3, 0), (7, 0)]


async def test_held_units_stay_where_they_are_held(server: Server, shop: Shop) -> None:
    api = server.client
    db = server.services.db
    await shop.product("drop", [("drop-1", "9.00", [3, 0])], reserve_on_add=True)
    cart, errors = await cart_op(
        api, "CartCreate", {"lines": [{"variantId": shop.variants["drop-1"], "quantity": 2}]}
    )
    assert errors == []
    assert cart is not None
    (variant,), (berlin, hamburg) = (
        [
            int(r[0])
            for r in await sql(server, "SELECT id FROM product_variant WHERE sku = 'drop-1'")
        ],
        [int(r[0]) for r in await sql(server, "SELECT id FROM warehouse ORDER BY code")],
    )
    with pytest.raises(DomainError) as refused:
        async with db.transaction() as session:
            await levels.move(session, variant, berlin, hamburg, 2, server.clock())
    assert refused.value.code == "INSUFFICIENT_STOCK"
    async with db.transaction() as session:
        await levels.move(session, variant, berlin, hamburg, 1, server.clock())
    assert await stock_rows(server, "drop-1") == [(1, 0), (2, 2)]
