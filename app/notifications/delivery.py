"""Sending the outbox: right after the commit that queued a message, and again by the
upkeep for whatever did not go out.

Delivery never runs inside a request's transaction, and never holds the request
up: the after-commit signal starts a background task and returns at once. Each
try claims its message first (one more attempt, the next try moved on by the
backoff), so two workers never send the same message at the same time; a try
that dies half-way is taken up again by the upkeep once its backoff has passed.
The mail server may have accepted a message whose success we failed to record:
delivery is at least once.

Backoff after the n-th failed try: 60 s x 2^(n-1), at most an hour; after
`EMAIL_MAX_ATTEMPTS` tries the message is FAILED and kept for staff to read.
Without `SMTP_URL` nothing is sent: the outbox is where mail goes, PENDING, and
setting `SMTP_URL` later sends what is pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from functools import partial
from urllib.parse import unquote, urlsplit

import aiosmtplib

from app.database import Database
from app.notifications import outbox
from app.notifications.models import OutboxEmail
from app.settings import Settings

log = logging.getLogger("commerce.notifications")

FIRST_BACKOFF_SECONDS = 60
MAX_BACKOFF_SECONDS = 3600
DUE_PER_ROUND = 100
CLOSE_WAIT_SECONDS = 5.0


def backoff(attempts: int) -> timedelta:
    """How long after its `attempts`-th try a message is tried again."""
    seconds = FIRST_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, MAX_BACKOFF_SECONDS))


class SmtpTransport:
    """One SMTP server, from `SMTP_URL`: `smtp://user:password@host:587` (STARTTLS when the
    server offers it) or `smtps://…:465` (TLS from the start); without a port, 25 or 465."""

    def __init__(self, url: str, sender: str, timeout: float) -> None:
        parts = urlsplit(url)
        self.use_tls = parts.scheme == "smtps"
        self.hostname = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.use_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender
        self.timeout = timeout
        # Message ids name the sender's domain (never the host's, which may take a DNS
        # lookup to find).
        self.domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"

    def message(self, row: OutboxEmail, now: datetime) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = row.recipient
        message["Subject"] = row.subject
        message["Date"] = format_datetime(now)
        message["Message-ID"] = make_msgid(f"outbox-{row.id}", domain=self.domain)
        message.set_content(row.body)
        return message

    async def send(self, row: OutboxEmail, now: datetime) -> None:
        await aiosmtplib.send(
            self.message(row, now),
            hostname=self.hostname,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.use_tls,
            timeout=self.timeout,
        )


class Mailer:
    """Sends the outbox through `transport` (None: no mail server; mail stays in the
    outbox). One per process (`Services.mailer`)."""

    def __init__(
        self,
        db: Database,
        transport: SmtpTransport | None,
        clock: Callable[[], datetime],
        max_attempts: int,
    ) -> None:
        self.db = db
        self.transport = transport
        self.clock = clock
        self.max_attempts = max_attempts
        self._tasks: set[asyncio.Task[int]] = set()

    @classmethod
    def from_settings(
        cls, settings: Settings, db: Database, clock: Callable[[], datetime]
    ) -> Mailer:
        transport = (
            SmtpTransport(settings.smtp_url, settings.email_from, settings.smtp_timeout_seconds)
            if settings.smtp_url
            else None
        )
        return cls(db, transport, clock, settings.email_max_attempts)

    async def queued(self, rows: Sequence[OutboxEmail]) -> None:
        """The after-commit signal (`outbox.OUTBOX`): starts sending these in the background
        and returns at once."""
        if self.transport is None:
            return
        ids = [row.id for row in rows if row.id is not None]
        if ids:
            task = asyncio.create_task(self.send(ids))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def send_due(self, now: datetime) -> int:
        """Pending mail whose next try is due (the upkeep); how many went out."""
        if self.transport is None:
            return 0
        return await self.send(await outbox.due(self.db, now, DUE_PER_ROUND), now)

    async def send(self, ids: Sequence[int], now: datetime | None = None) -> int:
        """Tries each message that is due; how many the mail server took. Never raises
        for a mail server's or the database's trouble: the upkeep tries again."""
        sent = 0
        for email_id in ids:
            try:
                sent += await self._send_one(email_id, now or self.clock())
            except Exception:
                log.exception("email %s: could not record the try", email_id)
        return sent

    async def _send_one(self, email_id: int, now: datetime) -> int:
        assert self.transport is not None
        row = await self.db.run_transaction(
            partial(outbox.claim, email_id=email_id, now=now, lease=lambda n: now + backoff(n)),
            "claim an email",
        )
        if row is None:
            return 0
        try:
            await self.transport.send(row, now)
        except Exception as exc:
            give_up = row.attempts >= self.max_attempts
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            log.warning(
                "email %s to the mail server failed (try %d of %d%s): %s",
                email_id, row.attempts, self.max_attempts, ", giving up" if give_up else "",
                error,
            )  # fmt: skip
            await self.db.run_transaction(
                partial(outbox.mark_failed, email_id=email_id, error=error, give_up=give_up),
                "record a failed email",
            )
            return 0
        await self.db.run_transaction(
            partial(outbox.mark_sent, email_id=email_id, now=now), "record a sent email"
        )
        return 1

    async def drain(self) -> None:
        """Waits for the deliveries started after commits (tests)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self) -> None:
        """Lets deliveries in flight finish (for at most `CLOSE_WAIT_SECONDS`), then stops
        them; what they did not send is sent by the upkeep of the next process."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=CLOSE_WAIT_SECONDS)
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
