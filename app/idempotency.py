"""Requests made once: what an `Idempotency-Key` needs kept.

A record per (caller, key): the fingerprint of the request that claimed it and,
once it finished, its response. `claim` is atomic: exactly one request runs;
a retry with the same fingerprint gets the response (or waits for it while the
first is running), one with another fingerprint is refused. A claim whose
request died (the process went away) expires after `running_seconds`, so the
key can be used again. Records live in Redis (one Lua script) or, without it
or while it is out, in the database.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from redis.asyncio import Redis
from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select

from app.breaker import FAILED, CircuitBreaker
from app.columns import utcnow
from app.database import Database
from app.persisted.models import IdempotencyRecord

# Longer than any request runs: a claim older than this belongs to a request that died.
RUNNING_SECONDS = 120


class State(enum.Enum):
    CLAIMED = "claimed"  # this request runs
    RUNNING = "running"  # another request with the key is running
    DONE = "done"  # the response is there
    MISMATCH = "mismatch"  # the key was used for another request


@dataclass(frozen=True, slots=True)
class Claim:
    state: State
    fingerprint: str
    response: bytes | None = None
    store: Store | None = None  # where the record is: the one to finish or abandon it in


class Store(Protocol):
    async def claim(self, key: str, fingerprint: str) -> Claim: ...
    async def finish(self, key: str, response: bytes, ttl_seconds: int) -> None: ...
    async def abandon(self, key: str) -> None: ...


# KEYS[1]: the record. ARGV: fingerprint, ms a claim lasts.
_CLAIM = """
local fingerprint = redis.call('HGET', KEYS[1], 'f')
if not fingerprint then
  redis.call('HSET', KEYS[1], 'f', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'claimed'}
end
if fingerprint ~= ARGV[1] then return {'mismatch'} end
local response = redis.call('HGET', KEYS[1], 'r')
if response then return {'done', response} end
return {'running'}
"""


class RedisStore:
    def __init__(self, client: Redis, prefix: str) -> None:
        self._client = client
        self._prefix = f"{prefix}:idem"
        self._claim = client.register_script(_CLAIM)

    async def claim(self, key: str, fingerprint: str) -> Claim:
        found = await self._claim(
            keys=[f"{self._prefix}:{key}"], args=[fingerprint, RUNNING_SECONDS * 1000]
        )
        state = State(found[0].decode() if isinstance(found[0], bytes) else found[0])
        return Claim(state, fingerprint, found[1] if len(found) > 1 else None)

    async def finish(self, key: str, response: bytes, ttl_seconds: int) -> None:
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.hset(f"{self._prefix}:{key}", "r", response)
            pipe.expire(f"{self._prefix}:{key}", ttl_seconds)
            await pipe.execute()

    async def abandon(self, key: str) -> None:
        await self._client.delete(f"{self._prefix}:{key}")


class DatabaseStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(self, key: str, fingerprint: str) -> Claim:
        now = utcnow()
        async with self._db.transaction() as session:
            assert session.bind is not None
            # A record past its time is gone, whoever had it.
            await session.exec(  # type: ignore[call-overload]
                delete(IdempotencyRecord).where(
                    col(IdempotencyRecord.key) == key, col(IdempotencyRecord.expires_at) <= now
                )
            )
            upsert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
            inserted = await session.exec(  # type: ignore[call-overload]
                upsert(IdempotencyRecord)
                .values(
                    key=key,
                    fingerprint=fingerprint,
                    expires_at=now + timedelta(seconds=RUNNING_SECONDS),
                )
                .on_conflict_do_nothing(index_elements=["key"])
            )
            if inserted.rowcount == 1:
                return Claim(State.CLAIMED, fingerprint)
            row = (
                await session.exec(select(IdempotencyRecord).where(IdempotencyRecord.key == key))
            ).one()
        if row.fingerprint != fingerprint:
            return Claim(State.MISMATCH, fingerprint)
        if row.response is not None:
            return Claim(State.DONE, fingerprint, row.response)
        return Claim(State.RUNNING, fingerprint)

    async def finish(self, key: str, response: bytes, ttl_seconds: int) -> None:
        async with self._db.transaction() as session:
            await session.exec(  # type: ignore[call-overload]
                update(IdempotencyRecord)
                .where(col(IdempotencyRecord.key) == key)
                .values(response=response, expires_at=utcnow() + timedelta(seconds=ttl_seconds))
            )

    async def abandon(self, key: str) -> None:
        async with self._db.transaction() as session:
            await session.exec(delete(IdempotencyRecord).where(col(IdempotencyRecord.key) == key))  # type: ignore[call-overload]

    async def purge(self, now: datetime) -> int:
        """Deletes records past their time (the upkeep)."""
        async with self._db.transaction() as session:
            done = await session.exec(  # type: ignore[call-overload]
                delete(IdempotencyRecord).where(col(IdempotencyRecord.expires_at) <= now)
            )
        return int(done.rowcount or 0)


class Idempotency:
    """Redis when configured and answering, else the database."""

    def __init__(
        self, redis: RedisStore | None, db: DatabaseStore, breaker: CircuitBreaker
    ) -> None:
        self._redis = redis
        self._db = db
        self._breaker = breaker

    async def claim(self, key: str, fingerprint: str) -> Claim:
        if self._redis is not None:
            found = await self._breaker.call(self._redis.claim(key, fingerprint))
            if found is not FAILED:
                return dataclasses.replace(found, store=self._redis)
        return dataclasses.replace(await self._db.claim(key, fingerprint), store=self._db)

    async def finish(self, claim: Claim, key: str, response: bytes, ttl_seconds: int) -> None:
        if claim.store is self._redis and self._redis is not None:
            done = await self._breaker.call(self._redis.finish(key, response, ttl_seconds))
            if done is not FAILED:
                return
            # Redis went away meanwhile: a retry will find the response in the database.
            await self._db.claim(key, claim.fingerprint)
        await self._db.finish(key, response, ttl_seconds)

    async def abandon(self, claim: Claim, key: str) -> None:
        if claim.store is self._redis and self._redis is not None:
            await self._breaker.call(self._redis.abandon(key))
        else:
            await self._db.abandon(key)
