"""What subscribers of an order hear, announced after commit.

Domains that change an order (payments, cancellation, refunds, shipping,
delivery) call `order_changed`; logistics calls `tracking_event` for each new
carrier event. Both ride on `app.database.signal`, so nothing is announced
for a transaction that rolls back, and nothing is announced before the data
is committed: a subscriber that reads the order on hearing of it sees the new
state. Who carries the news to subscribers (Redis pub/sub, or in-process) is
the broker's business (`app.broker`), which listens on these channels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from app.database import signal

# Channels of `Database.on_signal`.
ORDER_CHANGED = "order-changed"
TRACKING = "order-tracking"


@dataclass(frozen=True, slots=True)
class TrackingNews:
    """A carrier's event on one of the order's shipments, as subscribers receive it."""

    order_id: int
    shipment_id: int
    status: str  # a ShipmentStatus value
    location: str
    description: str
    occurred_at: datetime


def order_changed(session: AsyncSession, order_id: int) -> None:
    """The order's status or amount due changes in this transaction."""
    signal(session, ORDER_CHANGED, order_id)


def tracking_event(session: AsyncSession, news: TrackingNews) -> None:
    """A new carrier event for one of the order's shipments is stored in this transaction."""
    signal(session, TRACKING, news)
