"""A circuit breaker in front of Redis, shared by the cache and the rate limiters.

Redis that is down, or that accepts connections and never answers, must cost
one timeout, not one per request: after a failed call, calls are refused at
once (the caller uses its fallback) for a cool-down. Then a single call is let
through as a probe while the others still use their fallback; its success
closes the breaker, its failure starts another cool-down. One breaker per
Redis client, so that whichever user sees the outage first spares the others.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable
from typing import Any, Final, Literal, TypeVar

from redis.exceptions import RedisError

log = logging.getLogger("commerce.redis")

T = TypeVar("T")

# What a broken or unreachable store raises (a refused connection is an OSError,
# a pool that cannot hand out a connection in time a RedisError).
STORE_ERRORS: Final = (RedisError, OSError, TimeoutError)


class _Failed(enum.Enum):
    FAILED = enum.auto()


#: What `CircuitBreaker.call` returns instead of a result: use the fallback.
FAILED: Final = _Failed.FAILED
Failed = Literal[_Failed.FAILED]


class CircuitBreaker:
    #: after a failure, the store is left alone this long before it is probed again
    cool_down_seconds: float = 5.0

    def __init__(self, cool_down_seconds: float | None = None) -> None:
        if cool_down_seconds is not None:
            self.cool_down_seconds = cool_down_seconds
        self._open_until: float | None = None  # None: closed, calls go through
        self._probing = False
        self._tasks: set[asyncio.Future[Any]] = set()

    @property
    def available(self) -> bool:
        """Whether a call now would be sent to the store."""
        if self._open_until is None:
            return True
        return not self._probing and time.monotonic() >= self._open_until

    async def call(self, operation: Awaitable[T]) -> T | Failed:
        """The result of `operation`, or FAILED (without waiting) while the store is out."""
        if not self.available:
            _close(operation)
            return FAILED
        if self._open_until is not None:
            self._probing = True
        # Run as its own task and shielded: a request aborted mid-call (client gone, a
        # sibling field failed) must not cut a command half-sent and poison the pooled
        # connection; the task records the outcome whoever still waits for it.
        task = asyncio.ensure_future(self._run(operation))
        self._tasks.add(task)
        task.add_done_callback(self._forget)
        return await asyncio.shield(task)

    def _forget(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: every waiter may have gone

    async def _run(self, operation: Awaitable[T]) -> T | Failed:
        try:
            result = await operation
        except STORE_ERRORS as exc:
            if self._open_until is None:
                log.warning(
                    "Redis unavailable, using in-process fallbacks for %.0f s at a time: %s",
                    self.cool_down_seconds,
                    exc,
                )
            self._open_until = time.monotonic() + self.cool_down_seconds
            self._probing = False
            return FAILED
        except BaseException:
            self._probing = False
            raise
        if self._open_until is not None:
            log.warning("Redis answers again")
        self._open_until = None
        self._probing = False
        return result

    async def settle(self, wait_seconds: float) -> None:
        """Wait (at most `wait_seconds`) for calls already sent, before their client is closed."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=wait_seconds)


def _close(operation: Awaitable[Any]) -> None:
    # A coroutine that is never awaited must be closed, or Python warns about it.
    close = getattr(operation, "close", None)
    if close is not None:
        close()
