"""The long-lived parts of a running server: settings, database, cache and clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from app.accounts.limits import AccountLimits
from app.cache import Cache, RedisBackend, create_cache
from app.columns import utcnow
from app.database import Database, create_engine
from app.payments.gateways import PaymentGateway, open_gateway
from app.ratelimit import (
    FailureLimiter,
    FailureStore,
    MemoryFailureStore,
    MemoryRateStore,
    RateLimiter,
    RateStore,
    RedisFailureStore,
    RedisRateStore,
)
from app.settings import Settings


@dataclass
class Services:
    settings: Settings
    db: Database
    cache: Cache
    sign_in_limiter: FailureLimiter
    account_limits: AccountLimits
    gateway: PaymentGateway
    clock: Callable[[], datetime] = field(default=utcnow)

    @classmethod
    def open(cls, settings: Settings, clock: Callable[[], datetime] = utcnow) -> Services:
        gateway = open_gateway(settings)  # first: an unknown one stops the process here
        cache = create_cache(
            settings.redis_url,
            settings.cache_prefix,
            settings.cache_ttl_seconds,
            settings.redis_max_connections,
        )
        failures: FailureStore
        rates: RateStore
        if isinstance(cache.backend, RedisBackend):
            failures = RedisFailureStore(cache.backend.client, settings.cache_prefix)
            rates = RedisRateStore(cache.backend.client, settings.cache_prefix)
        else:
            failures, rates = MemoryFailureStore(), MemoryRateStore()
        # One breaker for the one Redis: whoever meets an outage first spares the others.
        breaker = cache.breaker
        return cls(
            settings=settings,
            db=Database(create_engine(settings)),
            cache=cache,
            sign_in_limiter=FailureLimiter(
                failures,
                settings.login_max_failures,
                settings.login_failure_window_seconds,
                breaker,
            ),
            account_limits=AccountLimits.from_settings(settings, RateLimiter(rates, breaker)),
            gateway=gateway,
            clock=clock,
        )

    async def close(self) -> None:
        await self.cache.close()
        await self.db.dispose()
