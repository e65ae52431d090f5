"""Automatic persisted queries: hash -> document, shared by every worker, bounded.

In Redis, documents live under their hash with a TTL renewed on each use, and a
sorted set ranks them by last use; registering past `max_documents` drops the
least recently used, in the same Lua script, so no flood of new documents can
grow the store. Without Redis they live in the database, bounded the same way.
A lookup of an unknown hash writes nothing anywhere. Redis being out reads as
"not found" (the client then sends the text, which runs).

A hash names one text forever, so documents already seen are also kept in a
small in-process LRU and need no round trip.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from datetime import timedelta
from typing import Protocol

from redis.asyncio import Redis
from sqlalchemy import delete, func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.breaker import FAILED, CircuitBreaker
from app.columns import utcnow
from app.database import Database
from app.persisted.models import AutomaticQuery

LOCAL_DOCUMENTS = 1024

# KEYS[1]: the document's key, KEYS[2]: the recency index. ARGV: ttl (s), now (ms), hash.
_GET = """
local document = redis.call('GETEX', KEYS[1], 'EX', ARGV[1])
if document then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
  redis.call('EXPIRE', KEYS[2], ARGV[1])
end
return document
"""

# ARGV: document, ttl (s), now (ms), hash, most documents kept, key prefix of documents.
_PUT = """
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[2])
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if over > 0 then
  local evicted = redis.call('ZPOPMIN', KEYS[2], over)
  for i = 1, #evicted, 2 do
    redis.call('DEL', ARGV[6] .. evicted[i])
  end
end
return 1
"""


class Backend(Protocol):
    async def get(self, hash: str) -> str | None: ...
    async def put(self, hash: str, document: str) -> None: ...
    async def count(self) -> int: ...


class RedisBackend:
    def __init__(self, client: Redis, prefix: str, max_documents: int, ttl_seconds: int) -> None:
        # One hash tag: the script touches a document and the index, which must share a slot.
        self._prefix = f"{{{prefix}:apq}}"
        self._index = f"{self._prefix}:lru"
        self._max = max_documents
        self._ttl = ttl_seconds
        self._client = client
        self._get = client.register_script(_GET)
        self._put = client.register_script(_PUT)

    async def get(self, hash: str) -> str | None:
        now = int(time.time() * 1000)
        found = await self._get(
            keys=[f"{self._prefix}:{hash}", self._index], args=[self._ttl, now, hash]
        )
        return found.decode() if isinstance(found, bytes) else found

    async def put(self, hash: str, document: str) -> None:
        now = int(time.time() * 1000)
        await self._put(
            keys=[f"{self._prefix}:{hash}", self._index],
            args=[document, self._ttl, now, hash, self._max, f"{self._prefix}:"],
        )

    async def count(self) -> int:
        return int(await self._client.zcard(self._index))


class DatabaseBackend:
    """Without Redis. Recency is the time of registration: reads write nothing."""

    def __init__(self, db: Database, max_documents: int, ttl_seconds: int) -> None:
        self._db = db
        self._max = max_documents
        self._ttl = timedelta(seconds=ttl_seconds)

    async def get(self, hash: str) -> str | None:
        async with self._db.session() as session:
            return (
                await session.exec(
                    select(AutomaticQuery.document).where(
                        col(AutomaticQuery.hash) == hash,
                        col(AutomaticQuery.used_at) > utcnow() - self._ttl,
                    )
                )
            ).first()

    async def put(self, hash: str, document: str) -> None:
        now = utcnow()

        async def write(session: AsyncSession) -> None:
            assert session.bind is not None
            upsert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
            statement = upsert(AutomaticQuery).values(hash=hash, document=document, used_at=now)
            await session.exec(  # type: ignore[call-overload]
                statement.on_conflict_do_update(index_elements=["hash"], set_={"used_at": now})
            )
            kept = (
                select(AutomaticQuery.hash)
                .order_by(col(AutomaticQuery.used_at).desc())
                .limit(self._max)
                .scalar_subquery()
            )
            await session.exec(  # type: ignore[call-overload]
                delete(AutomaticQuery).where(
                    col(AutomaticQuery.hash).not_in(kept)
                    | (col(AutomaticQuery.used_at) <= now - self._ttl)
                )
            )

        await self._db.run_transaction(write, "register a persisted query")

    async def count(self) -> int:
        async with self._db.session() as session:
            return int((await session.exec(select(func.count()).select_from(AutomaticQuery))).one())


class AutomaticStore:
    def __init__(self, backend: Backend, breaker: CircuitBreaker | None) -> None:
        self.backend = backend
        # None: the backend is the database, whose failures are failures.
        self._breaker = breaker
        self._local: OrderedDict[str, str] = OrderedDict()

    async def get(self, hash: str) -> str | None:
        document = self._local.get(hash)
        if document is not None:
            self._local.move_to_end(hash)
            return document
        if self._breaker is None:
            found = await self.backend.get(hash)
        else:
            result = await self._breaker.call(self.backend.get(hash))
            found = None if result is FAILED else result
        if found is not None:
            self._keep(hash, found)
        return found

    async def put(self, hash: str, document: str) -> None:
        if self._breaker is None:
            await self.backend.put(hash, document)
        else:
            await self._breaker.call(self.backend.put(hash, document))
        self._keep(hash, document)

    def _keep(self, hash: str, document: str) -> None:
        self._local[hash] = document
        self._local.move_to_end(hash)
        while len(self._local) > LOCAL_DOCUMENTS:
            self._local.popitem(last=False)
