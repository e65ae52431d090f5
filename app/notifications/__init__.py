"""Email to customers: an outbox in the database, sent after commit through SMTP.

The API for every domain is two names:

    from app.notifications import Email, queue_email

    queue_email(session, Email(to=order.email, subject="...", text="...", order_id=order.id),
                now)

`queue_email(session, message, now=None)` writes the outbox row in the caller's
transaction (nothing is written if it rolls back) and returns it; once the
transaction commits, the mailer (`delivery.Mailer`, one per process) sends it
in the background: a slow or failing mail server never fails or slows the
caller. What does not go out is retried by the upkeep with backoff
(`delivery.backoff`). Without `SMTP_URL` nothing is sent and the outbox is the
mail's destination; staff read it with `emailOutbox`.

Notifications know no other domain: an email names its order by id only.
"""

from app.notifications.outbox import Email, queue_email

__all__ = ["Email", "queue_email"]
