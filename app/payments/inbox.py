"""The inbox of the gateway's notifications: each stored as received, in a transaction of
its own, before it is acted on.

`receive` stores a notification with the verdict on its signature; only a
verified one carries its event id (unique per gateway: the same event is acted
on once) and is acted on (`process`), in a second transaction. When acting on
it fails, the notification stays, marked FAILED with the error (`fail`): the
gateway's retry of the same event, or staff (`paymentNotificationReplay`), act
on it again, so a payment taken for an order that never heard of it is mended
without touching the database by hand.

Lock order: the notification before anything it acts on (`app.inventory.locking`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.database import Database, upsert
from app.errors import ErrorCode, fail
from app.paging import Keyset, Page, keyset_page
from app.payments.gateway_events import GatewayEvent, MalformedEvent, parse_event
from app.payments.models import NotificationState, PaymentNotification
from app.payments.refunds import Refunder
from app.payments.settlement import settle
from app.signing import SignatureVerdict, Verdict

log = logging.getLogger("commerce.payments")

MAX_ERROR_LENGTH = 2000
# States in which a notification may still be acted on, by a redelivery or a replay.
UNFINISHED = frozenset({NotificationState.RECEIVED, NotificationState.FAILED})


@dataclass(frozen=True, slots=True)
class Received:
    notification: PaymentNotification
    new: bool  # False: the gateway sent this event before


async def _by_event(session: AsyncSession, provider: str, event_id: str) -> PaymentNotification:
    return (
        await session.exec(
            select(PaymentNotification).where(
                PaymentNotification.provider == provider, PaymentNotification.event_id == event_id
            )
        )
    ).one()


async def receive(
    session: AsyncSession, provider: str, body: bytes, verdict: Verdict, now: datetime
) -> Received:
    """Stores a notification as received; an event stored before is not stored again."""
    event: GatewayEvent | None = None
    error = "" if verdict.valid else f"signature: {verdict.verdict.value.lower()}"
    if verdict.valid:
        try:
            event = parse_event(body)
        except MalformedEvent as exc:
            error = str(exc)
    values = {
        "provider": provider,
        "body": body,
        "signature": verdict.verdict.value,
        "signed_at": verdict.signed_at,
        "state": (NotificationState.RECEIVED if event else NotificationState.REJECTED).value,
        "error": error,
        "attempts": 0,
        "received_at": now,
    }
    if event is not None:
        values.update(event_id=event.id, event_type=event.type.value, reference=event.reference)
    statement = (
        upsert(session)(PaymentNotification)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        .returning(PaymentNotification.id)
    )
    stored = (await session.exec(statement)).scalar_one_or_none()  # type: ignore[call-overload]
    if stored is None:
        assert event is not None, "only events with an id can be stored before"
        return Received(await _by_event(session, provider, event.id), new=False)
    notification = await session.get(PaymentNotification, stored)
    assert notification is not None
    return Received(notification, new=True)


async def lock(session: AsyncSession, notification_id: int) -> PaymentNotification | None:
    return (
        await session.exec(
            select(PaymentNotification)
            .where(PaymentNotification.id == notification_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).first()


@dataclass(frozen=True, slots=True)
class Processed:
    notification: PaymentNotification
    acted: bool  # False: someone had processed it already (a concurrent delivery)


async def process(
    session: AsyncSession, notification_id: int, refunder: Refunder, now: datetime
) -> Processed:
    """Acts on a stored notification, once: a PROCESSED one is left as it is.
    INVALID_STATE for one whose signature was not good: it is never acted on."""
    notification = await lock(session, notification_id)
    if notification is None:
        raise fail(ErrorCode.NOT_FOUND, "no notification with this id", "id")
    if notification.signature != SignatureVerdict.VALID:
        raise fail(
            ErrorCode.INVALID_STATE,
            "a notification without a good signature is never acted on",
            "id",
        )
    if notification.state == NotificationState.PROCESSED:
        return Processed(notification, acted=False)
    notification.attempts += 1
    notification.processed_at = now
    try:
        event = parse_event(notification.body)
    except MalformedEvent as exc:
        notification.state, notification.error = NotificationState.REJECTED.value, str(exc)
    else:
        settled = await settle(session, notification.provider, event, refunder, now)
        notification.state = settled.state.value
        notification.error = settled.note
        notification.payment_id = settled.payment_id
    await session.flush()
    return Processed(notification, acted=True)


async def record_failure(
    db: Database, notification_id: int, error: BaseException, now: datetime
) -> None:
    """Marks a notification whose processing failed unexpectedly (its own transaction)."""
    text = f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH]

    async def mark(session: AsyncSession) -> None:
        notification = await lock(session, notification_id)
        if notification is not None and notification.state in UNFINISHED:
            notification.state = NotificationState.FAILED.value
            notification.error = text
            notification.attempts += 1
            notification.processed_at = now

    await db.run_transaction(mark, "record a failed payment notification")


NEWEST = Keyset("PAYMENT_NOTIFICATIONS", [col(PaymentNotification.id)], [int])


async def page(
    db: Database, state: NotificationState | None, first: int, after: str | None
) -> Page[PaymentNotification]:
    """Notifications newest first, of one state if asked."""
    statement = select(PaymentNotification)
    if state is not None:
        statement = statement.where(PaymentNotification.state == state)
    async with db.session() as session:
        return await keyset_page(session, statement, NEWEST, first, after, lambda n: [n.id])
