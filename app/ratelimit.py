"""Limits on expensive or guessable operations, in Redis or in process memory.

`RateLimiter`: at most N attempts per key and period (sign-ups, sign-ins),
whether they succeed or not. `FailureLimiter`: at most N *failures* per key in
a sliding window (password guessing).

Both keep their counts in Redis (shared by every worker and machine) and fall
back to process memory (weaker, but never open) while the circuit breaker that
Redis shares with the cache says it is out, so an outage costs one timeout,
not one per request. Keys are hashed: no email or client address is written
to Redis.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from redis.asyncio import Redis

from app.breaker import FAILED, CircuitBreaker


def limit_key(kind: str, value: str) -> str:
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


@dataclass(frozen=True, slots=True)
class Throttled:
    retry_after_seconds: int


def _throttled(wait_seconds: float) -> Throttled | None:
    return Throttled(max(1, math.ceil(wait_seconds))) if wait_seconds > 0 else None


@dataclass(frozen=True, slots=True)
class Rate:
    """`limit` attempts per `period_seconds`: a burst of `limit`, then one every
    period/limit seconds (GCRA, the generic cell rate algorithm). Unlike a fixed
    window it never lets 2 x limit through around a window boundary."""

    limit: int
    period_seconds: float = 60.0


class RateStore(Protocol):
    async def take(self, limits: Sequence[tuple[str, Rate]], now: float) -> float:
        """Take one attempt from every key, or from none: 0.0 when taken, else the
        seconds until all of them would allow it."""
        ...


def gcra(tat: float | None, now: float, rate: Rate) -> tuple[float, float]:
    """The key's next theoretical arrival time if it takes one attempt now, and how
    long it must wait first (0.0 when it need not). The Lua script does the same."""
    next_tat = (now if tat is None else max(tat, now)) + rate.period_seconds / rate.limit
    return next_tat, max(0.0, next_tat - rate.period_seconds - now)


class MemoryRateStore:
    """Per-process store; `now` is the caller's clock."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._tats: OrderedDict[str, float] = OrderedDict()
        self._max_keys = max_keys

    async def take(self, limits: Sequence[tuple[str, Rate]], now: float) -> float:
        taken = [(key, *gcra(self._tats.get(key), now, rate)) for key, rate in limits]
        wait = max((w for _key, _tat, w in taken), default=0.0)
        if wait > 0:
            return wait
        for key, tat, _wait in taken:
            self._tats[key] = tat
            self._tats.move_to_end(key)
        while len(self._tats) > self._max_keys:
            self._tats.popitem(last=False)
        return 0.0


# GCRA over several keys, all or nothing, in milliseconds of the server's clock.
# KEYS[1]: the latest time a take was counted at; then the limits' keys.
# ARGV[1]: milliseconds to add to the server's clock; then, per limit, its limit
# and period (ms). Returns 0 when taken, else the ms until it would be.
_TAKE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) + tonumber(ARGV[1])
local latest = tonumber(redis.call('GET', KEYS[1]) or '0')
if now < latest then now = latest end
local wait = 0
local ttl = 0
local tats = {}
for i = 2, #KEYS do
  local limit = tonumber(ARGV[2 * i - 2])
  local period = tonumber(ARGV[2 * i - 1])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  tats[i] = tat + period / limit
  wait = math.max(wait, tats[i] - period - now)
  ttl = math.max(ttl, math.ceil(tats[i] - now))
end
if wait > 0 then return math.ceil(wait) end
redis.call('SET', KEYS[1], string.format('%.0f', now), 'PX', ttl)
for i = 2, #KEYS do
  redis.call('SET', KEYS[i], string.format('%.3f', tats[i]), 'PX', math.ceil(tats[i] - now))
end
return 0
"""


class RedisRateStore:
    """Counts on the Redis server's clock, so workers whose clocks differ still agree.

    That clock is moved by as much as the caller's clock is from this machine's:
    by nothing in production, where the caller's clock is the system clock; tests
    move theirs instead of sleeping. Time as the script sees it never goes back
    (the offset varies by the script's latency, a failover may reach a server
    whose clock is behind): otherwise a burst of exactly the limit, at one instant
    of a test's clock, could be refused by a millisecond.
    """

    def __init__(self, client: Redis, prefix: str) -> None:
        # One hash tag for every rate key: a script's keys share a slot should Redis
        # be clustered.
        self._prefix = f"{{{prefix}:rate}}"
        self._take = client.register_script(_TAKE)

    async def take(self, limits: Sequence[tuple[str, Rate]], now: float) -> float:
        keys = [f"{self._prefix}:latest", *(f"{self._prefix}:{key}" for key, _rate in limits)]
        args: list[int] = [round((now - time.time()) * 1000)]
        for _key, rate in limits:
            args += [rate.limit, round(rate.period_seconds * 1000)]
        return int(await self._take(keys=keys, args=args)) / 1000


class RateLimiter:
    def __init__(self, store: RateStore, breaker: CircuitBreaker) -> None:
        self.store = store
        self.breaker = breaker
        self._fallback = MemoryRateStore()

    async def take(self, limits: Sequence[tuple[str, Rate]], now: datetime) -> Throttled | None:
        """Count one attempt against every limit; Throttled (counting nothing) when any
        of them is spent."""
        at = now.timestamp()
        wait = await self.breaker.call(self.store.take(limits, at))
        if wait is FAILED:
            wait = await self._fallback.take(limits, at)
        return _throttled(wait)


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


class FailureLimiter:
    """Refuses a key once it has `limit` failures within `window_seconds`."""

    key = staticmethod(limit_key)

    def __init__(
        self, store: FailureStore, limit: int, window_seconds: int, breaker: CircuitBreaker
    ) -> None:
        self.store = store
        self.limit = limit
        self.window_seconds = window_seconds
        self.breaker = breaker
        self._fallback = MemoryFailureStore()

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
        return _throttled(max(waits, default=0.0))

    async def failed(self, keys: Sequence[str], now: datetime) -> None:
        at = now.timestamp()
        for key in keys:
            if await self.breaker.call(self.store.add(key, at, self.window_seconds)) is FAILED:
                await self._fallback.add(key, at, self.window_seconds)

    async def succeeded(self, key: str) -> None:
        await self.breaker.call(self.store.clear(key))
        await self._fallback.clear(key)

    async def _recent(self, key: str, since: float) -> list[float]:
        local = await self._fallback.recent(key, since)
        remote = await self.breaker.call(self.store.recent(key, since))
        return local if remote is FAILED else [*remote, *local]
