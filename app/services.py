"""The long-lived parts of a running server: settings, database, cache and clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from app.cache import Cache, create_cache
from app.columns import utcnow
from app.database import Database, create_engine
from app.settings import Settings


@dataclass
class Services:
    settings: Settings
    db: Database
    cache: Cache
    clock: Callable[[], datetime] = field(default=utcnow)

    @classmethod
    def open(cls, settings: Settings, clock: Callable[[], datetime] = utcnow) -> Services:
        cache = create_cache(
            settings.redis_url,
            settings.cache_prefix,
            settings.cache_ttl_seconds,
            settings.redis_max_connections,
        )
        return cls(
            settings=settings, db=Database(create_engine(settings)), cache=cache, clock=clock
        )

    async def close(self) -> None:
        await self.cache.close()
        await self.db.dispose()
