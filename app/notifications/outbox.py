"""Queueing email in the caller's transaction, and reading and updating the outbox.

`queue_email(session, message)` is the whole API other domains use: it adds the
outbox row to the caller's transaction and signals it on `OUTBOX` (see
`app.database.signal`), so that the mailer (`app.notifications.delivery`)
sends it once the transaction has committed, and never if it rolls back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.columns import utcnow
from app.database import Database, signal, written
from app.notifications.models import EmailStatus, OutboxEmail
from app.paging import Keyset, Page, keyset_page

# The channel queued mail is signalled on after commit (`Database.on_signal`).
OUTBOX = "email-outbox"

MAX_SUBJECT = 300


def _one_line(text: str) -> str:
    """Header text: no line breaks (they would start new headers)."""
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class Email:
    """A plain-text email to one recipient, about an order (`order_id`) or not."""

    to: str
    subject: str
    text: str
    order_id: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "to", _one_line(self.to))
        object.__setattr__(self, "subject", _one_line(self.subject)[:MAX_SUBJECT])
        if not self.to or "@" not in self.to:
            raise ValueError(f"not an email address: {self.to!r}")


def queue_email(session: AsyncSession, message: Email, now: datetime | None = None) -> OutboxEmail:
    """Adds `message` to the outbox in the caller's transaction (written with its next
    flush); once that transaction commits, the mailer sends it, after the commit and
    outside of it: a slow or failing mail server never fails or slows the caller. What
    does not go out is retried by the upkeep. Returns the outbox row."""
    when = now or utcnow()
    row = OutboxEmail(
        recipient=message.to,
        subject=message.subject,
        body=message.text,
        order_id=message.order_id,
        status=EmailStatus.PENDING.value,
        created_at=when,
        next_attempt_at=when,
    )
    session.add(row)
    signal(session, OUTBOX, row)
    return row


OUTBOX_LIST = Keyset("OUTBOX", [col(OutboxEmail.id)], [int])


async def page(
    db: Database, status: EmailStatus | None, first: int, after: str | None
) -> Page[OutboxEmail]:
    """The outbox, newest first (staff)."""
    statement = select(OutboxEmail)
    if status is not None:
        statement = statement.where(OutboxEmail.status == status.value)
    async with db.session() as session:
        return await keyset_page(session, statement, OUTBOX_LIST, first, after, lambda e: [e.id])


async def due(db: Database, now: datetime, limit: int) -> list[int]:
    """Ids of pending mail whose next try is due, oldest first."""
    async with db.session() as session:
        rows = await session.exec(
            select(OutboxEmail.id)
            .where(
                OutboxEmail.status == EmailStatus.PENDING,
                col(OutboxEmail.next_attempt_at) <= now,
            )
            .order_by(col(OutboxEmail.next_attempt_at), col(OutboxEmail.id))
            .limit(limit)
        )
        return [i for i in rows.all() if i is not None]


async def claim(
    session: AsyncSession, email_id: int, now: datetime, lease: Callable[[int], datetime]
) -> OutboxEmail | None:
    """The pending mail `email_id` if its try is due, counted as one more try and its next
    try moved on to `lease(tries)`, so that no one else tries it meanwhile (and, should
    this try fail, that is when it is tried again); None if it is not due (any more)."""
    row = (
        await session.exec(
            select(OutboxEmail)
            .where(
                OutboxEmail.id == email_id,
                OutboxEmail.status == EmailStatus.PENDING,
                col(OutboxEmail.next_attempt_at) <= now,
            )
            .execution_options(populate_existing=True)
        )
    ).first()
    if row is None:
        return None
    attempts = row.attempts + 1
    until = lease(attempts)
    taken = await session.exec(  # type: ignore[call-overload]
        update(OutboxEmail)
        .where(
            col(OutboxEmail.id) == email_id,
            col(OutboxEmail.status) == EmailStatus.PENDING,
            col(OutboxEmail.attempts) == row.attempts,
        )
        .values(attempts=attempts, next_attempt_at=until)
    )
    if taken.rowcount != 1:
        return None  # another worker claimed it between the two statements
    written(row, attempts=attempts, next_attempt_at=until)
    return row


async def mark_sent(session: AsyncSession, email_id: int, now: datetime) -> None:
    await session.exec(  # type: ignore[call-overload]
        update(OutboxEmail)
        .where(col(OutboxEmail.id) == email_id)
        .values(status=EmailStatus.SENT.value, sent_at=now, last_error="")
    )


async def mark_failed(session: AsyncSession, email_id: int, error: str, give_up: bool) -> None:
    values: dict[str, object] = {"last_error": error[:1000]}
    if give_up:
        values["status"] = EmailStatus.FAILED.value
    await session.exec(  # type: ignore[call-overload]
        update(OutboxEmail)
        .where(col(OutboxEmail.id) == email_id, col(OutboxEmail.status) == EmailStatus.PENDING)
        .values(**values)
    )
