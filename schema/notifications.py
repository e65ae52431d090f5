"""The email outbox, as staff read it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app import ids
from app.notifications import models
from app.orders.models import number_of
from resolvers import notifications as resolve
from schema.access import query, staff
from schema.common import CtxInfo, FirstArg, Node, PageInfo, node_id

EmailStatus = strawberry.enum(
    models.EmailStatus,
    name="EmailStatus",
    description="PENDING until the mail server takes it (without SMTP_URL it stays in the "
    "outbox); FAILED once given up after its tries.",
)


@strawberry.type(description="An email to a customer, as queued, and whether it went out.")
class OutboxEmail(Node):
    id: strawberry.ID
    to: str
    subject: str
    text: str
    order_number: str | None = strawberry.field(description="The order it is about.")
    status: EmailStatus  # type: ignore[valid-type]
    attempts: int = strawberry.field(description="Tries to hand it to the mail server.")
    last_error: str = strawberry.field(description="Why the last try failed ('' if none did).")
    created_at: datetime
    next_attempt_at: datetime | None = strawberry.field(description="PENDING: the next try.")
    sent_at: datetime | None

    @classmethod
    def from_model(cls, row: models.OutboxEmail) -> OutboxEmail:
        pending = row.status == models.EmailStatus.PENDING
        return cls(
            id=node_id(ids.OUTBOX_EMAIL, row.id or 0),
            to=row.recipient,
            subject=row.subject,
            text=row.body,
            order_number=number_of(row.order_id) if row.order_id is not None else None,
            status=models.EmailStatus(row.status),
            attempts=row.attempts,
            last_error=row.last_error,
            created_at=row.created_at,
            next_attempt_at=row.next_attempt_at if pending else None,
            sent_at=row.sent_at,
        )


@strawberry.type
class OutboxEmailEdge:
    cursor: str
    node: OutboxEmail


@strawberry.type
class OutboxEmailConnection:
    edges: list[OutboxEmailEdge]
    page_info: PageInfo


@strawberry.type
class NotificationQuery:
    @query(staff(resolve.SEE_OUTBOX), "Emails to customers, newest first.")
    async def email_outbox(
        self,
        info: CtxInfo,
        first: FirstArg,
        after: str | None = None,
        status: Annotated[
            EmailStatus | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only those in this state."),
        ] = None,
    ) -> OutboxEmailConnection:
        page = await resolve.page(
            info.context, models.EmailStatus(status) if status else None, first, after
        )
        return OutboxEmailConnection(
            edges=[
                OutboxEmailEdge(cursor=cursor, node=OutboxEmail.from_model(row))
                for row, cursor in zip(page.items, page.cursors, strict=True)
            ],
            page_info=PageInfo.of(page),
        )
