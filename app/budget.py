"""Cost budgets: a leaky bucket of query-cost points per client.

Every operation's cost is known before it runs (`schema.limits`); running it
takes that many points out of its client's bucket, which refills at
`COST_RESTORE_RATE` points a second up to its size (`COST_BUDGET`, or the
client's own in `CLIENT_BUDGETS`). A bucket without the points refuses the
operation and says when it would have them (THROTTLED, HTTP 429 and
Retry-After), the way Shopify's GraphQL APIs do.

Whose bucket: the signed-in user's; else the registered persisted-query
client's whose document it is; else the client address's. Buckets live in
Redis (one atomic Lua script on the server's clock, shared by every worker) or
in process memory without it; a Redis outage falls back to process memory at
once through the shared circuit breaker.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass

from redis.asyncio import Redis

from app.breaker import FAILED, CircuitBreaker
from app.ratelimit import limit_key
from app.settings import Settings


@dataclass(frozen=True, slots=True)
class Bucket:
    key: str
    capacity: int
    restore_rate: float  # points per second


@dataclass(frozen=True, slots=True)
class Charge:
    """The outcome of taking `cost` points: taken or not, and the bucket afterwards."""

    allowed: bool
    cost: int
    available: float
    bucket: Bucket
    retry_after_seconds: int = 0

    def report(self) -> dict[str, object]:
        """`extensions.cost`, Shopify's shape."""
        return {
            "requestedQueryCost": self.cost,
            "throttleStatus": {
                "maximumAvailable": float(self.bucket.capacity),
                "currentlyAvailable": math.floor(self.available),
                "restoreRate": float(self.bucket.restore_rate),
            },
        }


def bucket_for(settings: Settings, user_id: int | None, client: str | None, address: str) -> Bucket:
    if user_id is not None:
        key, capacity = f"user:{user_id}", settings.cost_budget
    elif client is not None:
        key, capacity = (
            f"client:{client}",
            settings.client_budgets.get(client, settings.cost_budget),
        )
    else:
        key, capacity = limit_key("address", address), settings.cost_budget
    return Bucket(key, capacity, float(settings.cost_restore_rate))


def _refill(available: float, elapsed: float, bucket: Bucket) -> float:
    return min(float(bucket.capacity), available + max(elapsed, 0.0) * bucket.restore_rate)


def _charge(bucket: Bucket, cost: int, available: float) -> Charge:
    if cost > available:
        wait = (cost - available) / bucket.restore_rate
        return Charge(False, cost, available, bucket, max(1, math.ceil(wait)))
    return Charge(True, cost, available - cost, bucket)


class MemoryBuckets:
    def __init__(self, max_keys: int = 100_000) -> None:
        self._state: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._max_keys = max_keys

    async def take(self, bucket: Bucket, cost: int) -> Charge:
        now = time.monotonic()
        available, at = self._state.get(bucket.key, (float(bucket.capacity), now))
        charge = _charge(bucket, cost, _refill(available, now - at, bucket))
        if charge.allowed:
            self._state[bucket.key] = (charge.available, now)
            self._state.move_to_end(bucket.key)
            while len(self._state) > self._max_keys:
                self._state.popitem(last=False)
        return charge


# KEYS[1]: the bucket. ARGV: capacity, restore rate (points per ms), cost.
# Returns {taken (1/0), points available afterwards, ms until the cost would fit}.
_TAKE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'a', 't')
local available = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
if now > at then available = math.min(capacity, available + (now - at) * rate) end
if cost > available then
  return {0, tostring(available), tostring(math.ceil((cost - available) / rate))}
end
available = available - cost
redis.call('HSET', KEYS[1], 'a', tostring(available), 't', tostring(math.max(now, at)))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - available) / rate) + 1000)
return {1, tostring(available), '0'}
"""


class RedisBuckets:
    def __init__(self, client: Redis, prefix: str) -> None:
        self._prefix = f"{{{prefix}:cost}}"
        self._take = client.register_script(_TAKE)

    async def take(self, bucket: Bucket, cost: int) -> Charge:
        taken, available, wait_ms = await self._take(
            keys=[f"{self._prefix}:{bucket.key}"],
            args=[bucket.capacity, bucket.restore_rate / 1000, cost],
        )
        points = float(available)
        if int(taken):
            return Charge(True, cost, points, bucket)
        return Charge(False, cost, points, bucket, max(1, math.ceil(float(wait_ms) / 1000)))


class CostBuckets:
    def __init__(self, redis: RedisBuckets | None, breaker: CircuitBreaker) -> None:
        self._redis = redis
        self._breaker = breaker
        self._memory = MemoryBuckets()

    async def take(self, bucket: Bucket, cost: int) -> Charge:
        """Takes `cost` points (nothing when they are not there); 0 reads the bucket."""
        if self._redis is not None:
            charge = await self._breaker.call(self._redis.take(bucket, cost))
            if charge is not FAILED:
                return charge
        return await self._memory.take(bucket, cost)
