"""`POST /webhooks/payments/{provider}` and `POST /webhooks/carriers/{carrier}`: signed
notifications from the payment gateway and from carriers.

## Payments

Plain HTTP, a boundary of its own: the notification is stored as received (with
the verdict on its signature) in one transaction, and only then, if its
signature is good, acted on in another (`app.payments.inbox`). Answers:

- 401: bad signature, or signed more than 300 s away from our clock; nothing changes;
- 400: signed but not an event in the contract's format;
- 200: acted on, or acknowledged with nothing to do (an unknown reference, news
  already applied, an event delivered before);
- 422: refused: the amount or currency does not match the payment;
- 500: acting on it failed; it is kept as FAILED, and the gateway's retry (or
  staff's replay) acts on it again;
- 404 for a gateway this server does not use, 413 for a body over 64 KiB,
  503 while PAYMENT_WEBHOOK_SECRET is unset.

## Carriers

A tracking event is applied in one transaction (`app.logistics.tracking`); its
event id, unique per carrier, makes a redelivery a no-op. Answers: 401 for a bad
or stale signature, 400 for a body that is not an event, 200 when applied, when
delivered before (`duplicate`) and for a tracking number that is none of ours
(`unknown`, logged), 500 when applying it failed (nothing is kept: the carrier's
retry applies it), 404 for a carrier not configured (CARRIERS), 503 while
CARRIER_WEBHOOK_SECRET is unset.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from app import signing
from app.logistics import carrier_events, tracking
from app.logistics.carriers import Carriers
from app.payments import inbox
from app.payments.models import NotificationState, PaymentNotification
from app.payments.refunds import Refunder
from app.services import Services
from app.web.view import read_body

log = logging.getLogger("commerce.webhooks")

MAX_WEBHOOK_BYTES = 64 * 1024

_STATUS = {
    NotificationState.PROCESSED: 200,
    NotificationState.IGNORED: 200,
    NotificationState.REJECTED: 422,
    NotificationState.RECEIVED: 200,
    NotificationState.FAILED: 500,
}


def _answer(notification: PaymentNotification, duplicate: bool = False) -> JSONResponse:
    state = NotificationState(notification.state)
    body = {"status": "duplicate" if duplicate else state.value.lower()}
    if notification.error:
        body["reason"] = notification.error
    return JSONResponse(body, status_code=_STATUS[state])


async def _signed(
    request: Request, secret: str | None, setting: str, now: datetime
) -> tuple[bytes, signing.Verdict] | JSONResponse:
    """The body (bounded) and the verdict on its signature; an answer instead when no
    secret is configured (503) or the body cannot be read (413, 400)."""
    if secret is None:
        log.error("%s webhook refused: %s is not set", request.url.path, setting)
        return JSONResponse({"error": "webhooks are not configured"}, 503)
    try:
        body = await read_body(request, MAX_WEBHOOK_BYTES)
    except HTTPException as exc:
        return JSONResponse({"error": exc.reason}, exc.status_code)
    verdict = signing.verify(
        secret,
        request.headers.get(signing.TIMESTAMP_HEADER),
        request.headers.get(signing.SIGNATURE_HEADER),
        body,
        now,
    )
    return body, verdict


def payment_webhook(services: Services) -> Callable[[Request], Awaitable[JSONResponse]]:
    """The route's handler, bound to this process's services."""

    async def handle(request: Request) -> JSONResponse:
        provider = request.path_params["provider"]
        gateway = services.gateway
        secret = services.settings.payment_webhook_secret
        if provider != gateway.name:
            return JSONResponse({"error": f"no payment gateway {provider!r} here"}, 404)
        db, now = services.db, services.clock()
        signed = await _signed(request, secret, "PAYMENT_WEBHOOK_SECRET", now)
        if isinstance(signed, JSONResponse):
            return signed
        body, verdict = signed
        received = await db.run_transaction(
            lambda session: inbox.receive(session, provider, body, verdict, now),
            "store a payment notification",
        )
        notification = received.notification
        assert notification.id is not None
        if not verdict.valid:
            log.warning(
                "payment notification %s refused: signature %s",
                notification.id, verdict.verdict.value.lower(),
            )  # fmt: skip
            return JSONResponse({"error": "bad or stale signature"}, 401)
        if notification.state == NotificationState.REJECTED and received.new:
            log.warning("payment notification %s refused: %s", notification.id, notification.error)
            return JSONResponse({"error": notification.error}, 400)
        if not received.new and notification.state not in inbox.UNFINISHED:
            return _answer(notification, duplicate=True)
        refunder = Refunder(db, gateway)
        try:
            processed = await db.run_transaction(
                lambda session: inbox.process(session, notification.id or 0, refunder, now),
                "act on a payment notification",
            )
        except Exception as exc:  # kept as FAILED, for the gateway's retry or a replay
            log.exception("payment notification %s failed", notification.id)
            await inbox.record_failure(db, notification.id, exc, now)
            return JSONResponse({"error": "internal error; the notification is kept"}, 500)
        return _answer(processed.notification, duplicate=not processed.acted)

    return handle


def carrier_webhook(services: Services) -> Callable[[Request], Awaitable[JSONResponse]]:
    """The carriers' route handler, bound to this process's services."""
    carriers = Carriers(services.settings.carriers)

    async def handle(request: Request) -> JSONResponse:
        carrier = request.path_params["carrier"]
        secret = services.settings.carrier_webhook_secret
        if not carriers.known(carrier):
            return JSONResponse({"error": "no such carrier here"}, 404)
        now = services.clock()
        signed = await _signed(request, secret, "CARRIER_WEBHOOK_SECRET", now)
        if isinstance(signed, JSONResponse):
            return signed
        body, verdict = signed
        if not verdict.valid:
            log.warning("carrier %s webhook refused: signature %s", carrier,
                        verdict.verdict.value.lower())  # fmt: skip
            return JSONResponse({"error": "bad or stale signature"}, 401)
        try:
            event = carrier_events.parse_event(body, now)
        except carrier_events.MalformedEvent as exc:
            log.warning("carrier %s webhook refused: %s", carrier, exc)
            return JSONResponse({"error": str(exc)}, 400)
        try:
            outcome = await services.db.run_transaction(
                lambda session: tracking.apply(session, carrier, event, now),
                "apply a carrier event",
            )
        except Exception:  # the carrier retries; nothing of it was kept
            log.exception("carrier %s event %s failed", carrier, event.id)
            return JSONResponse({"error": "internal error; send it again"}, 500)
        return JSONResponse({"status": outcome.value})

    return handle
