"""What a carrier tells us, read from a webhook body (the contract's format):
`{"id", "trackingNumber", "status", "location", "description", "occurredAt"}`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.logistics.carriers import MAX_TRACKING_NUMBER
from app.logistics.status import CARRIER_STATUSES, ShipmentStatus
from app.signing import json_object
from app.text import text_problem

MAX_TEXT = 500
# Carriers' clocks drift; an event dated further ahead than this would pin a parcel's
# status (the latest event wins) until that time.
MAX_AHEAD = timedelta(hours=1)
_EVENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,200}")


class MalformedEvent(ValueError):
    """A body that is not a carrier event in the contract's format."""


@dataclass(frozen=True, slots=True)
class CarrierEvent:
    id: str
    tracking_number: str
    status: ShipmentStatus
    location: str
    description: str
    occurred_at: datetime  # aware, UTC


def _text(data: dict[str, object], name: str, limit: int, required: bool) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise MalformedEvent(f"{name} must be a string")
    problem = text_problem(value, limit)
    if problem is not None:
        raise MalformedEvent(f"{name}: {problem}")
    return value.strip()


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise MalformedEvent("occurredAt is not an ISO 8601 date and time") from None
    if moment.tzinfo is None:
        raise MalformedEvent("occurredAt must say its time zone (Z or +hh:mm)")
    return moment.astimezone(UTC)


def parse_event(body: bytes, now: datetime) -> CarrierEvent:
    """The event in a webhook body received `now`; MalformedEvent saying what is wrong
    otherwise (an event dated more than MAX_AHEAD after `now` too)."""
    try:
        data = json_object(body)
    except ValueError as exc:
        raise MalformedEvent(str(exc)) from None
    event_id = _text(data, "id", 200, required=True)
    if not _EVENT_ID.fullmatch(event_id):
        raise MalformedEvent("id is not valid")
    number = _text(data, "trackingNumber", MAX_TRACKING_NUMBER, required=True)
    if not number:
        raise MalformedEvent("trackingNumber is required")
    status = _text(data, "status", 40, required=True)
    if status not in CARRIER_STATUSES:
        raise MalformedEvent(
            f"status must be one of {', '.join(sorted(CARRIER_STATUSES))}, got {status!r}"
        )
    occurred_at = _moment(_text(data, "occurredAt", 64, required=True))
    if occurred_at > now + MAX_AHEAD:
        raise MalformedEvent("occurredAt is in the future")
    return CarrierEvent(
        id=event_id,
        tracking_number=number,
        status=ShipmentStatus(status),
        location=_text(data, "location", MAX_TEXT, required=False),
        description=_text(data, "description", MAX_TEXT, required=False),
        occurred_at=occurred_at,
    )
