"""Whole responses of public persisted queries: kept server-side, and cacheable by CDNs.

A query sent by hash (or registered with its hash) whose every field is public
catalog data (`schema.cacheability`) answers the same to every anonymous
caller until the catalog changes. Its response is kept under the catalog
version (`app.catalog.version`), keyed by document hash, operation name and
variables: a repeat skips parsing, validation and execution, and no write can
leave it stale (the version moves after the write's commit, before the
mutation answers). A response read before a write and kept after it lands
under the old version, where nobody reads it.

Over GET the same responses carry `Cache-Control: public, max-age` and an
ETag (the hash of their data), and `If-None-Match` gets `304 Not Modified`.
Everything else is `private, no-store`: requests with an Authorization header,
private fields, errors, POST.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson

from app.cache import Cache
from app.catalog.version import CATALOG_FAMILY

PRIVATE = "private, no-store"
# Larger answers are not worth a cache slot; larger variables are not a catalog page.
MAX_KEPT_BYTES = 512 * 1024
MAX_VARIABLES_BYTES = 2048
PUBLIC_DECISIONS = 2048


@dataclass(slots=True)
class Exchange:
    """What the edge decided about one HTTP request, from resolution to response."""

    public: bool = False  # anonymous, persisted, public fields only
    key: str | None = None  # in the response cache
    version: str | None = None  # of the catalog when looked up
    data: bytes | None = None  # the answer's `data`, as JSON, to keep and to tag
    cost: int = 0


def etag(data: bytes) -> str:
    return f'W/"{hashlib.sha256(data).hexdigest()[:32]}"'


def matches(if_none_match: str, tag: str) -> bool:
    """Weak comparison (RFC 9110 8.8.3.2), as If-None-Match asks."""
    wanted = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in wanted or tag.removeprefix("W/") in wanted


class ResponseCache:
    def __init__(self, cache: Cache, ttl_seconds: int) -> None:
        self.cache = cache
        self.ttl_seconds = ttl_seconds
        self._public: OrderedDict[tuple[str, str | None], bool] = OrderedDict()

    def remembered_public(self, sha: str, operation_name: str | None) -> bool | None:
        return self._public.get((sha, operation_name))

    def remember_public(self, sha: str, operation_name: str | None, public: bool) -> None:
        """A document's hash names its text forever, so whether it is public never changes."""
        self._public[(sha, operation_name)] = public
        while len(self._public) > PUBLIC_DECISIONS:
            self._public.popitem(last=False)

    @staticmethod
    def key(sha: str, operation_name: str | None, variables: dict[str, Any] | None) -> str | None:
        canonical = orjson.dumps([operation_name, variables or {}], option=orjson.OPT_SORT_KEYS)
        if len(canonical) > MAX_VARIABLES_BYTES:
            return None
        return f"response:{sha}:{hashlib.sha256(canonical).hexdigest()}"

    async def lookup(self, exchange: Exchange) -> bool:
        """Fills `exchange` from the cache; True on a hit. The version read is kept either
        way: a miss stores under it."""
        if self.ttl_seconds <= 0 or exchange.key is None:
            return False
        found = await self.cache.lookup(CATALOG_FAMILY, exchange.key)
        if found is None:
            return False
        exchange.version, raw = found
        if raw is None:
            return False
        cost, _, data = raw.partition(b"\n")
        exchange.cost, exchange.data = int(cost), data
        return True

    async def keep(self, exchange: Exchange) -> bool:
        if (
            self.ttl_seconds <= 0
            or exchange.key is None
            or exchange.version is None
            or exchange.data is None
            or len(exchange.data) > MAX_KEPT_BYTES
        ):
            return False
        value = str(exchange.cost).encode() + b"\n" + exchange.data
        await self.cache.store(
            CATALOG_FAMILY, exchange.version, exchange.key, value, self.ttl_seconds
        )
        return True
