"""A transaction that PostgreSQL rolls back as a deadlock victim is run again."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from app.cart import lines, merge
from app.database import Database, is_retryable, sqlstate
from tests.conftest import PASSWORD, Server, make_customer
from tests.shop import Shop, build_shop, cart_op, sql

LOCK = "SELECT id FROM warehouse WHERE id = :id FOR UPDATE"


# SQLite runs one writer at a time: there is nothing to deadlock.
pytestmark = pytest.mark.postgres_only


@pytest.fixture
async def shop(server: Server) -> Shop:
    return await build_shop(server)


class Deadlock:
    """Locks two rows in a victim transaction and in another connection in opposite orders.

    The victim waits last, with the shorter deadlock_timeout, so PostgreSQL rolls it back
    and the other side goes on to commit (`finish`, once the victim's transaction is over).
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.others: list[asyncio.Future[None]] = []

    async def provoke(self, victim: AsyncSession) -> None:
        rows = (await victim.exec(text("SELECT id FROM warehouse ORDER BY id"))).all()  # type: ignore[call-overload]
        first, second = rows[0][0], rows[1][0]
        other_locked, victim_locked = asyncio.Event(), asyncio.Event()

        async def other_side() -> None:
            async with self.db.engine.connect() as connection, connection.begin():
                await connection.execute(text("SET LOCAL deadlock_timeout = '10s'"))
                await connection.execute(text(LOCK), {"id": second})
                other_locked.set()
                await victim_locked.wait()
                await connection.execute(text(LOCK), {"id": first})

        self.others.append(asyncio.ensure_future(other_side()))
        await other_locked.wait()
        await victim.exec(text("SET LOCAL deadlock_timeout = '50ms'"))  # type: ignore[call-overload]
        await victim.exec(text(LOCK), params={"id": first})  # type: ignore[call-overload]
        victim_locked.set()
        await asyncio.sleep(0.2)  # the other side waits for our row by now
        await victim.exec(text(LOCK), params={"id": second})  # type: ignore[call-overload]

    async def finish(self) -> None:
        await asyncio.gather(*self.others)


async def test_a_real_deadlock_is_retryable_and_other_errors_are_not(
    server: Server, shop: Shop
) -> None:
    db = server.services.db
    deadlock = Deadlock(db)
    with pytest.raises(DBAPIError) as caught:
        async with db.transaction() as session:
            await deadlock.provoke(session)
    await deadlock.finish()
    assert sqlstate(caught.value) == "40P01"
    assert is_retryable(caught.value)

    with pytest.raises(IntegrityError) as refused:
        async with db.transaction() as session:
            await session.exec(text("INSERT INTO warehouse (name, code) VALUES ('X', 'BER')"))  # type: ignore[call-overload]
    assert not is_retryable(refused.value)
    assert not is_retryable(RuntimeError("deadlock detected"))


async def test_a_mutation_rolled_back_by_a_deadlock_is_run_again(
    server: Server, shop: Shop, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    api = server.client
    cart, errors = await cart_op(api, "CartCreate", {"lines": []})
    assert errors == []
    assert cart is not None
    real = lines.change_lines
    deadlock = Deadlock(server.services.db)
    attempts = 0

    async def first_attempt_deadlocks(session: AsyncSession, *args: Any, **kwargs: Any) -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            await deadlock.provoke(session)
        await real(session, *args, **kwargs)

    monkeypatch.setattr(lines, "change_lines", first_attempt_deadlocks)
    result = await api.op(
        "CartLinesAdd",
        {"cartId": cart["id"], "lines": [{"variantId": shop.variants["sock-3"], "quantity": 2}]},
    )
    await deadlock.finish()
    payload = result.data["cartLinesAdd"]
    assert payload["userErrors"] == []
    assert [line["quantity"] for line in payload["cart"]["lines"]] == [2]
    assert attempts == 2
    assert any("40P01" in r.getMessage() for r in caplog.records if r.name == "commerce.database")


async def test_a_sign_in_retried_for_its_cart_merge_starts_one_session(
    server: Server, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = server.client
    await make_customer(server, "merger@example.com")
    guest, _ = await cart_op(
        api, "CartCreate", {"lines": [{"variantId": shop.variants["sock-3"], "quantity": 1}]}
    )
    assert guest is not None
    real = merge.merge_into_customer_cart
    deadlock = Deadlock(server.services.db)
    attempts = 0

    async def first_attempt_deadlocks(session: AsyncSession, *args: Any) -> Any:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            await deadlock.provoke(session)
        return await real(session, *args)

    monkeypatch.setattr(merge, "merge_into_customer_cart", first_attempt_deadlocks)
    result = await api.op(
        "TokenCreate", {"email": "merger@example.com", "password": PASSWORD, "cartId": guest["id"]}
    )
    await deadlock.finish()
    payload = result.data["tokenCreate"]
    assert payload["userErrors"] == []
    assert [line["quantity"] for line in payload["cart"]["lines"]] == [1]
    assert attempts == 2
    # One session from signing up, one from this sign-in: the retry did not sign in again.
    sessions = await sql(
        server,
        "SELECT count(*) FROM refresh_token t JOIN user_account u ON u.id = t.user_id"
        " WHERE u.email = 'merger@example.com'",
    )
    assert sessions == [(2,)]
