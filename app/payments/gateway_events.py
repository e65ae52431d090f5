"""What the payment gateway tells us, read from a webhook body (the contract's format):
`{"id", "type", "reference", "amount": "12.34", "currency": "USD"}`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from app.money import CURRENCY_EXPONENTS, MoneyFormatError, display, to_minor
from app.signing import json_object


class EventType(StrEnum):
    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_FAILED = "payment.failed"
    REFUND_SUCCEEDED = "refund.succeeded"


class MalformedEvent(ValueError):
    """A body that is not an event in the contract's format."""


_TEXT = re.compile(r"[A-Za-z0-9_.:-]{1,200}")
_AMOUNT = re.compile(r"[0-9]{1,15}(\.[0-9]{1,8})?")
_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True, slots=True)
class GatewayEvent:
    id: str
    type: EventType
    reference: str  # the gateway's reference of the payment (or of the refund)
    amount: str
    currency: str

    def mismatch(self, amount: int, currency: str) -> str | None:
        """Why this event cannot be about `amount` minor units of `currency`; None if it can."""
        if self.currency != currency:
            return f"the event is in {self.currency}, the payment in {currency}"
        try:
            minor = to_minor(self.amount, currency)
        except MoneyFormatError:
            minor = None
        if minor != amount:
            return f"the event says {self.amount} {currency}, we expect {display(amount, currency)}"
        return None


def parse_event(body: bytes) -> GatewayEvent:
    """The event in a webhook body; MalformedEvent saying what is wrong otherwise."""
    try:
        data = json_object(body)
    except ValueError as exc:
        raise MalformedEvent(str(exc)) from None
    fields = {name: data.get(name) for name in ("id", "type", "reference", "amount", "currency")}
    wrong = [name for name, value in fields.items() if not isinstance(value, str)]
    if wrong:
        raise MalformedEvent(f"{', '.join(wrong)} must be strings")
    try:
        kind = EventType(fields["type"])
    except ValueError:
        raise MalformedEvent(f"unknown event type {fields['type']!r}") from None
    for name, pattern in (("id", _TEXT), ("reference", _TEXT), ("amount", _AMOUNT)):
        if not pattern.fullmatch(str(fields[name])):
            raise MalformedEvent(f"{name} is not valid")
    currency = str(fields["currency"])
    if not _CURRENCY.fullmatch(currency) or currency not in CURRENCY_EXPONENTS:
        raise MalformedEvent("currency is not a known ISO 4217 code")
    return GatewayEvent(
        id=str(fields["id"]),
        type=kind,
        reference=str(fields["reference"]),
        amount=str(fields["amount"]),
        currency=currency,
    )
