"""Periodic upkeep run by every worker: expired holds, overdue unpaid orders, delivered
orders to complete, card refunds the gateway has not taken yet, emails the mail
server has not taken yet, old carts, and idempotent responses past their time (kept
in the database when there is no Redis).

Each job is a set of conditional updates (or works on rows it locks and checks
again), so several workers (or machines) running it at once do the work once
between them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

from app.cart.purge import purge_expired
from app.database import Database
from app.idempotency import DatabaseStore
from app.inventory import holds
from app.loyalty.points import PointsRates
from app.orders.completion import complete_delivered_orders
from app.orders.expiry import cancel_expired_orders
from app.payments.refunds import Refunder
from app.services import Services

log = logging.getLogger("commerce.maintenance")

CART_PURGE_EVERY_SECONDS = 3600


async def release_expired_holds(db: Database, now: datetime) -> int:
    """Gives back the units of every hold past its expiry."""
    return await db.run_transaction(
        lambda session: holds.release_expired(session, now), "release expired holds"
    )


async def purge_expired_carts(db: Database, now: datetime) -> int:
    """Deletes carts unused past their expiry, a batch per transaction, until none is left."""
    purged = 0
    while batch := await db.run_transaction(
        lambda session: purge_expired(session, now), "purge expired carts"
    ):
        purged += batch
    return purged


async def run_once(services: Services, now: datetime, purge_carts: bool) -> dict[str, int]:
    db, settings = services.db, services.settings
    refunder = Refunder(db, services.gateway)
    released = await release_expired_holds(db, now)
    cancelled = await cancel_expired_orders(db, now, refunder.refund_in_full)
    completed = await complete_delivered_orders(
        db, now, settings.order_auto_complete_days, PointsRates.from_settings(settings)
    )
    refunds_sent = await refunder.send_unsent(now)
    emails_sent = await services.mailer.send_due(now)
    purged = await purge_expired_carts(db, now) if purge_carts else 0
    forgotten = await DatabaseStore(db).purge(now) if purge_carts else 0
    return {
        "holds_released": released,
        "orders_cancelled": cancelled,
        "orders_completed": completed,
        "refunds_sent": refunds_sent,
        "emails_sent": emails_sent,
        "carts_purged": purged,
        "idempotent_responses_forgotten": forgotten,
    }


async def run_forever(services: Services, interval: float) -> None:
    last_purge = 0.0
    while True:
        await asyncio.sleep(interval)
        purge = time.monotonic() - last_purge >= CART_PURGE_EVERY_SECONDS
        try:
            done = await run_once(services, services.clock(), purge)
        except Exception:  # keep the loop alive through an outage; the next round retries
            log.exception("maintenance round failed")
            continue
        if purge:
            last_purge = time.monotonic()
        if any(done.values()):
            log.info("maintenance: %s", done)
