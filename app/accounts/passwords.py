"""Password hashing with argon2id; the work runs off the event loop, a few at a time."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.errors import ErrorCode, fail, try_again_in

T = TypeVar("T")

_hasher = PasswordHasher()  # argon2id with the library's current recommended cost

# Verified when the email is unknown, so that a wrong email and a wrong password
# cost the same time and cannot be told apart.
_DUMMY_HASH = _hasher.hash("a password nobody has, for equal timing")


class HashingSlots:
    """At most `size` hashes or verifications at once in this process.

    Each holds 64 MiB and a core for about 0.1 s: a burst must neither exhaust
    memory nor take every thread of the loop's default executor (which DNS
    lookups use too). A caller that would wait longer than `max_wait_seconds`
    for a slot is refused with TOO_MANY_REQUESTS rather than queued for ever.
    """

    def __init__(self, size: int, max_wait_seconds: float) -> None:
        self._free = asyncio.Semaphore(size)
        self.max_wait_seconds = max_wait_seconds

    async def run(self, work: Callable[..., T], *args: object) -> T:
        await self._acquire()
        try:
            thread = asyncio.ensure_future(asyncio.to_thread(work, *args))
        except BaseException:
            self._free.release()
            raise
        # Freed when the thread ends, not when the caller stops waiting: a request
        # cancelled mid-hash must not let one more hash run than there are slots.
        thread.add_done_callback(self._done)
        return await asyncio.shield(thread)

    async def _acquire(self) -> None:
        if not self._free.locked():
            await self._free.acquire()
            return
        try:
            async with asyncio.timeout(self.max_wait_seconds):
                await self._free.acquire()
        except TimeoutError:
            raise fail(
                ErrorCode.TOO_MANY_REQUESTS,
                f"the server is busy; {try_again_in(max(1, math.ceil(self.max_wait_seconds)))}",
            ) from None

    def _done(self, thread: asyncio.Future[object]) -> None:
        self._free.release()
        if not thread.cancelled():
            thread.exception()  # retrieved: the caller may have gone


async def hash_password(password: str, slots: HashingSlots | None = None) -> str:
    """`slots` bounds the work; without, it is unbounded (command-line tools, seeding)."""
    return await _run(slots, _hasher.hash, password)


async def verify_password(
    password_hash: str | None, password: str, slots: HashingSlots | None = None
) -> bool:
    return await _run(
        slots, _verify, password_hash or _DUMMY_HASH, password, password_hash is not None
    )


async def _run(slots: HashingSlots | None, work: Callable[..., T], *args: object) -> T:
    if slots is None:
        return await asyncio.to_thread(work, *args)
    return await slots.run(work, *args)


def _verify(password_hash: str, password: str, real: bool) -> bool:
    try:
        _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    return real
