"""Periodic upkeep run by every worker: expired holds, overdue unpaid orders, old carts.

Each job is a set of conditional updates, so several workers (or machines)
running it at once do the work once between them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime

from app.cart import carts, holds
from app.database import Database
from app.orders.expiry import cancel_expired_orders

log = logging.getLogger("commerce.maintenance")

CART_PURGE_EVERY_SECONDS = 3600


async def run_once(db: Database, now: datetime, purge_carts: bool) -> dict[str, int]:
    async with db.transaction() as session:
        released = await holds.release_expired(session, now)
    cancelled = await cancel_expired_orders(db, now)
    purged = 0
    while purge_carts:
        async with db.transaction() as session:
            batch = await carts.purge_expired(session, now)
        purged += batch
        purge_carts = batch > 0
    return {"holds_released": released, "orders_cancelled": cancelled, "carts_purged": purged}


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
