"""Periodic upkeep run by every worker: expired holds, overdue unpaid orders, old carts,
idempotent responses past their time (kept in the database when there is no Redis).

Each job is a set of conditional updates, so several workers (or machines)
running it at once do the work once between them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime

from app.cart.purge import purge_expired
from app.database import Database
from app.idempotency import DatabaseStore
from app.inventory import holds
from app.orders.expiry import cancel_expired_orders

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


async def run_once(db: Database, now: datetime, purge_carts: bool) -> dict[str, int]:
    released = await release_expired_holds(db, now)
    cancelled = await cancel_expired_orders(db, now)
    purged = await purge_expired_carts(db, now) if purge_carts else 0
    forgotten = await DatabaseStore(db).purge(now) if purge_carts else 0
    return {
        "holds_released": released,
        "orders_cancelled": cancelled,
        "carts_purged": purged,
        "idempotent_responses_forgotten": forgotten,
    }


async def run_forever(db: Database, clock: Callable[[], datetime], interval: float) -> None:
    last_purge = 0.0
    while True:
        await asyncio.sleep(interval)
        purge = time.monotonic() - last_purge >= CART_PURGE_EVERY_SECONDS
        try:
            done = await run_once(db, clock(), purge)
        except Exception:  # keep the loop alive through an outage; the next round retries
            log.exception("maintenance round failed")
            continue
        if purge:
            last_purge = time.monotonic()
        if any(done.values()):
            log.info("maintenance: %s", done)
