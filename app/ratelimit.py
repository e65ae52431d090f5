"""Failure throttling: at most N failures per key in a sliding window.

Failures are timestamps in a Redis sorted set per key (shared by every worker
and machine), or in process memory without Redis. Time comes from the
caller's clock, so tests move it instead of sleeping. Keys are hashed: no
email address is written to Redis.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("commerce.ratelimit")


class FailureStore(Protocol):
    async def recent(self, key: str, since: float) -> list[float]: ...
    async def add(self, key: str, at: float, keep_seconds: int) -> None: ...
    async def clear(self, key: str) -> None: ...


class MemoryFailureStore:
    """Per-process store; bounded so that a flood of keys cannot exhaust memory."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._data: OrderedDict[str, list[float]] = OrderedDict()
        self._max_keys = max_keys

    async def recent(self, key: str, since: float) -> list[float]:
        kept = [t for t in self._data.get(key, []) if t > since]
        if kept:
            self._data[key] = kept
        else:
            self._data.pop(key, None)
        return kept

    async def add(self, key: str, at: float, keep_seconds: int) -> None:
        self._data.setdefault(key, []).append(at)
        self._data.move_to_end(key)
        while len(self._data) > self._max_keys:
            self._data.popitem(last=False)

    async def clear(self, key: str) -> None:
        self._data.pop(key, None)


class RedisFailureStore:
    def __init__(self, client: Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix

    def _key(self, key: str) -> str:
        return f"{self._prefix}:fail:{key}"

    async def recent(self, key: str, since: float) -> list[float]:
        rows = await self._client.zrangebyscore(
            self._key(key), f"({since}", "+inf", withscores=True
        )
        return [float(score) for _member, score in rows]

    async def add(self, key: str, at: float, keep_seconds: int) -> None:
        name = self._key(key)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.zadd(name, {f"{at}:{secrets.token_hex(4)}": at})
            pipe.zremrangebyscore(name, "-inf", f"({at - keep_seconds}")
            pipe.expire(name, keep_seconds)
            await pipe.execute()

    async def clear(self, key: str) -> None:
        await self._client.delete(self._key(key))


@dataclass(frozen=True, slots=True)
class Throttled:
    retry_after_seconds: int


class FailureLimiter:
    """Refuses a key once it has `limit` failures within `window_seconds`."""

    def __init__(self, store: FailureStore, limit: int, window_seconds: int) -> None:
        self.store = store
        self.limit = limit
        self.window_seconds = window_seconds
        # Used while Redis is unreachable: weaker (per process) but never open.
        self._fallback = MemoryFailureStore()

    @staticmethod
    def key(kind: str, value: str) -> str:
        return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"

    async def check(self, keys: Sequence[str], now: datetime) -> Throttled | None:
        """How long until these keys may try again; None when they may now."""
        at = now.timestamp()
        since = at - self.window_seconds
        waits: list[float] = []
        for key in keys:
            times = sorted(await self._recent(key, since))
            if len(times) >= self.limit:
                # Allowed again once enough of the oldest failures leave the window.
                oldest_that_counts = times[len(times) - self.limit]
                waits.append(oldest_that_counts + self.window_seconds - at)
        if not waits:
            return None
        return Throttled(max(1, math.ceil(max(waits))))

    async def failed(self, keys: Sequence[str], now: datetime) -> None:
        for key in keys:
            try:
                await self.store.add(key, now.timestamp(), self.window_seconds)
            except (RedisError, OSError, TimeoutError) as exc:
                log.warning("failure store unavailable, counting in process: %s", exc)
                await self._fallback.add(key, now.timestamp(), self.window_seconds)

    async def succeeded(self, key: str) -> None:
        try:
            await self.store.clear(key)
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("failure store unavailable: %s", exc)
        await self._fallback.clear(key)

    async def _recent(self, key: str, since: float) -> list[float]:
        local = await self._fallback.recent(key, since)
        try:
            return [*await self.store.recent(key, since), *local]
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("failure store unavailable, counting in process: %s", exc)
            return local
