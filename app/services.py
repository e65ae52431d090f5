"""The long-lived parts of a running server: settings, database, cache and clock, and the
stores of the API's edge (persisted queries, cost budgets, idempotent responses)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from app import live
from app.accounts.limits import AccountLimits
from app.broker import Broker
from app.budget import CostBuckets, RedisBuckets
from app.cache import Cache, RedisBackend, create_cache
from app.columns import utcnow
from app.database import Database, create_engine
from app.idempotency import DatabaseStore, Idempotency, RedisStore
from app.notifications.delivery import Mailer
from app.notifications.outbox import OUTBOX
from app.payments.gateways import PaymentGateway, open_gateway
from app.persisted import store as apq
from app.persisted.registry import Registry
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
    automatic_queries: apq.AutomaticStore
    trusted_documents: Registry
    budgets: CostBuckets
    idempotency: Idempotency
    gateway: PaymentGateway
    mailer: Mailer
    broker: Broker
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
        db = Database(create_engine(settings))
        # Whatever is cached under a family a transaction changed moves on after its commit.
        db.on_change(cache.invalidate)
        # Email queued by a transaction goes out after its commit.
        mailer = Mailer.from_settings(settings, db, clock)
        db.on_signal(OUTBOX, mailer.queued)
        prefix = settings.cache_prefix
        failures: FailureStore
        rates: RateStore
        # One breaker for the one Redis: whoever meets an outage first spares the others.
        breaker = cache.breaker
        automatic: apq.AutomaticStore
        broker = Broker(prefix, settings.subscription_queue_size)
        if isinstance(cache.backend, RedisBackend):
            client = cache.backend.client
            # Published through the cache's client; heard on a connection of its own.
            broker = Broker(
                prefix, settings.subscription_queue_size, settings.redis_url, client, breaker
            )
            failures = RedisFailureStore(client, prefix)
            rates = RedisRateStore(client, prefix)
            automatic = apq.AutomaticStore(
                apq.RedisBackend(
                    client, prefix, settings.apq_max_documents, settings.apq_ttl_seconds
                ),
                breaker,
            )
            buckets, idempotent = RedisBuckets(client, prefix), RedisStore(client, prefix)
        else:
            failures, rates = MemoryFailureStore(), MemoryRateStore()
            automatic = apq.AutomaticStore(
                apq.DatabaseBackend(db, settings.apq_max_documents, settings.apq_ttl_seconds),
                None,
            )
            buckets, idempotent = None, None
        # Order news committed by any process reaches subscribers connected to any process.
        live.wire(db, broker)
        return cls(
            settings=settings,
            db=db,
            cache=cache,
            sign_in_limiter=FailureLimiter(
                failures,
                settings.login_max_failures,
                settings.login_failure_window_seconds,
                breaker,
            ),
            account_limits=AccountLimits.from_settings(settings, RateLimiter(rates, breaker)),
            automatic_queries=automatic,
            trusted_documents=Registry(db),
            budgets=CostBuckets(buckets, breaker),
            idempotency=Idempotency(idempotent, DatabaseStore(db), breaker),
            gateway=gateway,
            mailer=mailer,
            broker=broker,
            clock=clock,
        )

    async def close(self) -> None:
        # First: subscriptions complete, and the last news goes out while Redis is open.
        await self.broker.close()
        await self.mailer.close()
        await self.cache.close()
        await self.db.dispose()
