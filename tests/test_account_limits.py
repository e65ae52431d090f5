"""Sign-ups and sign-ins are limited per client address and in all, password hashing is
capped, and a hung Redis costs one timeout, not one per sign-in."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from app.settings import Settings
from tests.conftest import PASSWORD, Server, from_address, open_app
from tests.support import BlackHole, Clock, GraphQLClient, Result

pytestmark = pytest.mark.usefixtures("backend")


@asynccontextmanager
async def shop(settings: Settings, clock: Clock, **changes: Any) -> AsyncIterator[Server]:
    """A server with these settings changed (on the test's database, and Redis if any)."""
    app, http, api = await open_app(settings.with_overrides(**changes), clock)
    async with app.router.lifespan_context(app), http:
        yield Server(app, app.state.services, api, clock)


async def sign_up(api: GraphQLClient, email: str) -> Result:
    return await api.op(
        "AccountRegister",
        {"input": {"email": email, "password": PASSWORD, "firstName": "A", "lastName": "B"}},
    )


async def sign_in(api: GraphQLClient, email: str, password: str = PASSWORD) -> Result:
    return await api.op("TokenCreate", {"email": email, "password": password})


def errors(result: Result) -> list[dict[str, Any]]:
    payload = next(iter(result.data.values()))
    return payload["userErrors"]  # type: ignore[no-any-return]


def code(result: Result) -> str:
    found = errors(result)
    return found[0]["code"] if found else "OK"


# Each attempt uses a new email, so that only the limit under test can refuse it.
Attempt = Callable[[GraphQLClient, int], Awaitable[Result]]


async def _sign_up_attempt(api: GraphQLClient, n: int) -> Result:
    return await sign_up(api, f"new{n}@example.com")


async def _sign_in_attempt(api: GraphQLClient, n: int) -> Result:
    return await sign_in(api, "known@example.com")


LIMITS = {
    "sign-up": ("signup_per_address_per_minute", "signup_per_minute", _sign_up_attempt),
    "sign-in": ("signin_per_address_per_minute", "signin_per_minute", _sign_in_attempt),
}


@pytest.mark.parametrize("operation", sorted(LIMITS))
async def test_attempts_per_address_are_limited_until_the_window_passes(
    settings: Settings, clock: Clock, operation: str
) -> None:
    per_address, _overall, attempt = LIMITS[operation]
    async with (
        shop(settings, clock, **{per_address: 3}) as server,
        from_address(server, "203.0.113.5") as client,
        from_address(server, "203.0.113.6") as neighbour,
    ):
        await sign_up(neighbour, "known@example.com")
        for n in range(3):
            assert code(await attempt(client, n)) == "OK"
        # A burst of 3, then one every 60 / 3 seconds.
        assert errors(await attempt(client, 3)) == [
            {
                "field": None,
                "message": f"too many {operation} attempts; try again in 20 seconds",
                "code": "TOO_MANY_REQUESTS",
            }
        ]
        assert code(await attempt(neighbour, 4)) == "OK"
        if operation == "sign-up":  # nothing of the refused one was written
            assert code(await sign_in(neighbour, "new3@example.com")) == "INVALID_CREDENTIALS"

        clock.advance(seconds=19)
        assert code(await attempt(client, 5)) == "TOO_MANY_REQUESTS"
        # Redis counts on its own clock moved by the test's: allow it a millisecond or so.
        clock.advance(seconds=2)
        assert code(await attempt(client, 6)) == "OK"
        assert code(await attempt(client, 7)) == "TOO_MANY_REQUESTS"


@pytest.mark.parametrize("operation", sorted(LIMITS))
async def test_attempts_from_all_addresses_are_limited(
    settings: Settings, clock: Clock, operation: str
) -> None:
    _per_address, overall, attempt = LIMITS[operation]
    async with shop(settings, clock, **{overall: 4}) as server:
        if operation == "sign-in":
            await sign_up(server.client, "known@example.com")
        codes = []
        for n in range(6):
            async with from_address(server, f"198.51.100.{n}") as client:
                codes.append(code(await attempt(client, n)))
        assert codes == ["OK"] * 4 + ["TOO_MANY_REQUESTS"] * 2


async def test_refused_attempts_are_not_counted(settings: Settings, clock: Clock) -> None:
    """A client that keeps trying while refused is served again as soon as the others are."""
    async with (
        shop(settings, clock, signin_per_address_per_minute=2) as server,
        from_address(server, "192.0.2.9") as client,
    ):
        await sign_up(server.client, "known@example.com")
        for _ in range(2):
            assert code(await sign_in(client, "known@example.com")) == "OK"
        for _ in range(5):
            assert code(await sign_in(client, "known@example.com")) == "TOO_MANY_REQUESTS"
        clock.advance(seconds=31)  # one attempt every 30 s once the burst is spent
        assert code(await sign_in(client, "known@example.com")) == "OK"


@asynccontextmanager
async def slot_taken(server: Server) -> AsyncIterator[None]:
    """Holds the only hashing slot (PASSWORD_HASH_CONCURRENCY=1) until the block ends."""
    release = threading.Event()
    held = asyncio.ensure_future(server.services.account_limits.hashing.run(release.wait))
    await asyncio.sleep(0.05)  # the thread has the slot now
    try:
        yield
    finally:
        release.set()
        await held


async def test_password_hashing_waits_a_bounded_time_for_a_slot(
    settings: Settings, clock: Clock
) -> None:
    async with shop(
        settings, clock, password_hash_concurrency=1, password_hash_max_wait_ms=300
    ) as server:
        api = server.client
        await sign_up(api, "known@example.com")
        async with slot_taken(server):
            started = time.perf_counter()
            busy = await sign_up(api, "late@example.com")
            waited = time.perf_counter() - started
            assert errors(busy) == [
                {
                    "field": None,
                    "message": "the server is busy; try again in 1 second",
                    "code": "TOO_MANY_REQUESTS",
                }
            ]
            assert 0.3 <= waited < 2
            # Busy is not a wrong password: six refusals do not pause the account.
            for _ in range(6):
                assert code(await sign_in(api, "known@example.com")) == "TOO_MANY_REQUESTS"
        assert code(await sign_in(api, "late@example.com")) == "INVALID_CREDENTIALS"
        assert code(await sign_in(api, "known@example.com")) == "OK"
        assert code(await sign_up(api, "late@example.com")) == "OK"


async def test_concurrent_sign_ups_beyond_the_hashing_cap_are_refused_whole(
    settings: Settings, clock: Clock
) -> None:
    # The checks below sign in for every refused sign-up from one address: up to five
    # failures, which the failed-sign-in limit (not this test's subject) would count.
    async with shop(
        settings, clock, password_hash_concurrency=1, password_hash_max_wait_ms=10,
        login_max_failures=100,
    ) as server:  # fmt: skip
        api = server.client
        emails = [f"burst{n}@example.com" for n in range(6)]
        results = await asyncio.gather(*(sign_up(api, email) for email in emails))
        codes = [code(result) for result in results]
        assert set(codes) == {"OK", "TOO_MANY_REQUESTS"}, codes
        for email, result in zip(emails, results, strict=True):
            # An account exists exactly for each sign-up that was answered OK.
            expected = "OK" if code(result) == "OK" else "INVALID_CREDENTIALS"
            assert code(await sign_in(api, email)) == expected


async def test_a_hung_redis_costs_one_timeout_not_one_per_sign_in(
    settings: Settings, clock: Clock
) -> None:
    hole = BlackHole()
    await hole.start()
    try:
        async with shop(settings, clock, redis_url=f"redis://127.0.0.1:{hole.port}/0") as server:
            api = server.client
            started = time.perf_counter()
            assert code(await sign_up(api, "known@example.com")) == "OK"
            first = time.perf_counter() - started
            started = time.perf_counter()
            for _ in range(10):
                assert code(await sign_in(api, "known@example.com")) == "OK"
            ten = time.perf_counter() - started
    finally:
        await hole.stop()
    print(f"hung Redis: first sign-up {first:.2f} s, then 10 sign-ins {ten:.2f} s")
    # Each sign-in asks Redis 4 times, 0.5 s timeout each: 20 s if every one waited.
    # Generous bounds: this machine may be busy with other work.
    assert first < 5
    assert ten < 10
