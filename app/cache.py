"""Cache-aside for slow-changing data, in Redis or (without REDIS_URL) in process.

Entries belong to a *family* (say `categories`, or `user:42`) whose version
number is part of every key. A write bumps the family's version after its
database commit, so every process sees new keys at once and an old value
written late by a slow reader can never be read again. A TTL with jitter is a
safety net. Loads of one key are coalesced within a process, and across
processes a short Redis lock lets one process load while the others wait a
moment for its result.

Redis being down is never an error for clients: reads fall through to the
loader, and the circuit breaker (`app.breaker`, shared with the rate limiters)
logs the outage once and leaves Redis alone for a few seconds before it is
tried again. Version bumps that could not be sent are kept and sent first when
Redis answers again.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import orjson
from redis.asyncio import BlockingConnectionPool, Redis

from app.breaker import FAILED, STORE_ERRORS, CircuitBreaker, Failed

log = logging.getLogger("commerce.cache")

T = TypeVar("T")

_GET_VERSIONED = """
local version = redis.call('GET', KEYS[1]) or '0'
return {version, redis.call('GET', ARGV[1] .. version .. ':' .. ARGV[2])}
"""


class Backend(Protocol):
    async def get_versioned(self, family: str, key: str) -> tuple[str, bytes | None]: ...
    async def set(self, family: str, version: str, key: str, value: bytes, ttl: int) -> None: ...
    async def bump(self, family: str) -> None: ...
    async def try_lock(self, name: str, ttl_ms: int) -> bool: ...
    async def unlock(self, name: str) -> None: ...
    async def ping(self) -> None: ...
    async def close(self) -> None: ...


class MemoryBackend:
    """Per-process store for the embedded configuration (one process)."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._versions: dict[str, int] = {}
        self._data: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._max_entries = max_entries

    async def get_versioned(self, family: str, key: str) -> tuple[str, bytes | None]:
        version = str(self._versions.get(family, 0))
        full = f"{family}:{version}:{key}"
        entry = self._data.get(full)
        if entry is None:
            return version, None
        expires, value = entry
        if expires < time.monotonic():
            del self._data[full]
            return version, None
        self._data.move_to_end(full)
        return version, value

    async def set(self, family: str, version: str, key: str, value: bytes, ttl: int) -> None:
        self._data[f"{family}:{version}:{key}"] = (time.monotonic() + ttl, value)
        self._data.move_to_end(f"{family}:{version}:{key}")
        while len(self._data) > self._max_entries:
            self._data.popitem(last=False)

    async def bump(self, family: str) -> None:
        self._versions[family] = self._versions.get(family, 0) + 1

    async def try_lock(self, name: str, ttl_ms: int) -> bool:
        return True  # one process: in-process coalescing already serialises loads

    async def unlock(self, name: str) -> None:
        return None

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._data.clear()


class RedisBackend:
    def __init__(self, client: Redis, prefix: str) -> None:
        self._client = client
        # A hash tag keeps a family's keys in one slot should Redis be clustered.
        self._prefix = prefix
        self._get_versioned = client.register_script(_GET_VERSIONED)

    @classmethod
    def from_url(cls, url: str, prefix: str, max_connections: int) -> RedisBackend:
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=0.5,
            socket_timeout=0.5,
            socket_connect_timeout=0.5,
        )
        return cls(Redis.from_pool(pool), prefix)

    @property
    def client(self) -> Redis:
        return self._client

    def _version_key(self, family: str) -> str:
        return f"{self._prefix}:v:{family}"

    def _data_prefix(self, family: str) -> str:
        return f"{self._prefix}:d:{family}:"

    async def get_versioned(self, family: str, key: str) -> tuple[str, bytes | None]:
        version, value = await self._get_versioned(
            keys=[self._version_key(family)], args=[self._data_prefix(family), key]
        )
        return (version.decode() if isinstance(version, bytes) else str(version)), value

    async def set(self, family: str, version: str, key: str, value: bytes, ttl: int) -> None:
        await self._client.set(f"{self._data_prefix(family)}{version}:{key}", value, ex=ttl)

    async def bump(self, family: str) -> None:
        await self._client.incr(self._version_key(family))

    async def try_lock(self, name: str, ttl_ms: int) -> bool:
        return bool(await self._client.set(f"{self._prefix}:lock:{name}", b"1", nx=True, px=ttl_ms))

    async def unlock(self, name: str) -> None:
        await self._client.delete(f"{self._prefix}:lock:{name}")

    async def ping(self) -> None:
        await self._client.ping()

    async def close(self) -> None:
        await self._client.aclose()


class Cache:
    """Versioned cache-aside over a backend, with graceful degradation."""

    lock_ttl_ms = 3000
    lock_wait_seconds = 0.3
    close_wait_seconds = 5.0

    def __init__(
        self, backend: Backend, ttl_seconds: int, breaker: CircuitBreaker | None = None
    ) -> None:
        self.backend = backend
        self.ttl_seconds = ttl_seconds
        self.breaker = breaker or CircuitBreaker()
        self._inflight: dict[str, asyncio.Future[Any]] = {}
        self._tasks: set[asyncio.Future[Any]] = set()
        self._pending_bumps: set[str] = set()

    async def get_or_load(self, family: str, key: str, load: Callable[[], Awaitable[T]]) -> T:
        """The cached value of `family`/`key`, loading and storing it on a miss.

        Values go through JSON, so `load` returns plain dicts, lists and scalars.
        """
        found = await self._call(self.backend.get_versioned(family, key))
        if found is FAILED:
            return await load()
        version, raw = found
        if raw is not None:
            return orjson.loads(raw)  # type: ignore[no-any-return]
        # Coalesce per version: a load that began before a write is not shared
        # with requests that arrive after it. The load runs as its own task, so a
        # requester that goes away (cancelled) neither cancels it for the others
        # nor leaves a half-done Redis command behind.
        name = f"{family}:{version}:{key}"
        running = self._inflight.get(name)
        if running is None:
            running = self._spawn(self._load_and_store(family, version, key, load))
            self._inflight[name] = running
            running.add_done_callback(lambda _task: self._inflight.pop(name, None))
        return await asyncio.shield(running)  # type: ignore[no-any-return]

    def _spawn(self, work: Awaitable[T]) -> asyncio.Future[T]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: every waiter may have gone

    async def _load_and_store(
        self, family: str, version: str, key: str, load: Callable[[], Awaitable[T]]
    ) -> T:
        lock = f"{family}:{version}:{key}"
        locked = await self._call(self.backend.try_lock(lock, self.lock_ttl_ms))
        if locked is FAILED:
            return await load()
        if not locked:
            waited = await self._wait_for_other_loader(family, key, version)
            if waited is not None:
                return orjson.loads(waited)  # type: ignore[no-any-return]
        try:
            value = await load()
            ttl = int(self.ttl_seconds * random.uniform(0.9, 1.1))
            await self._call(self.backend.set(family, version, key, orjson.dumps(value), ttl))
            return value
        finally:
            if locked:
                await self._call(self.backend.unlock(lock))

    async def _wait_for_other_loader(self, family: str, key: str, version: str) -> bytes | None:
        deadline = time.monotonic() + self.lock_wait_seconds
        while time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            found = await self._call(self.backend.get_versioned(family, key))
            if found is FAILED or found[0] != version:
                return None
            if found[1] is not None:
                return found[1]
        return None

    async def lookup(self, family: str, key: str) -> tuple[str, bytes | None] | None:
        """The family's current version and the raw value kept under it for `key` (None
        when there is none); None while the store is out. For callers that keep bytes of
        their own and must know the version they read (to store under it later)."""
        found = await self._call(self.backend.get_versioned(family, key))
        return None if found is FAILED else found

    async def store(self, family: str, version: str, key: str, value: bytes, ttl: int) -> None:
        """Keeps `value` under `version`: unreachable at once if the family moved on since."""
        await self._call(self.backend.set(family, version, key, value, ttl))

    async def invalidate(self, *families: str) -> None:
        """Make every cached entry of these families unreachable; call after commit."""
        self._pending_bumps.update(families)
        await self._flush_bumps()

    async def ping(self) -> bool:
        try:
            await self.backend.ping()
        except STORE_ERRORS:
            return False
        return True

    async def close(self) -> None:
        # Let commands already sent finish, so their connections go back to the pool.
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=self.close_wait_seconds)
        await self.breaker.settle(self.close_wait_seconds)
        await self.backend.close()

    async def _flush_bumps(self) -> None:
        for family in sorted(self._pending_bumps):
            if await self.breaker.call(self.backend.bump(family)) is FAILED:
                return
            self._pending_bumps.discard(family)

    async def _call(self, operation: Awaitable[T]) -> T | Failed:
        """Run a backend call through the breaker; FAILED when the store is out."""
        if self._pending_bumps and self.breaker.available:
            await self._flush_bumps()
        return await self.breaker.call(operation)


def create_cache(
    redis_url: str | None, prefix: str, ttl_seconds: int, max_connections: int
) -> Cache:
    if redis_url:
        return Cache(RedisBackend.from_url(redis_url, prefix, max_connections), ttl_seconds)
    return Cache(MemoryBackend(), ttl_seconds)
