"""The built-in gateway: behaves like a real one, offline.

A card payment is created PENDING with a reference and a client secret, and
stays so until a signed webhook says it succeeded or failed (send one with
`commerce payments webhook`, or as the README shows). Refunds are accepted at
once and confirmed by a `refund.succeeded` webhook. Idempotency keys are
honoured within the process for the last few thousand requests, as a real
gateway honours them for a day.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from app.payments.gateways import CreatedPayment, PaymentGateway, RequestedRefund
from app.settings import Settings

T = TypeVar("T")

REMEMBERED_KEYS = 10_000


class _Remembered(OrderedDict[str, T]):
    """What was answered per idempotency key, the oldest forgotten first."""

    def answer(self, key: str, make: Callable[[], T]) -> T:
        if key not in self:
            self[key] = make()
            if len(self) > REMEMBERED_KEYS:
                self.popitem(last=False)
        return self[key]


def _payment() -> CreatedPayment:
    reference = f"sbx_pay_{secrets.token_hex(12)}"
    return CreatedPayment(reference, f"{reference}_secret_{secrets.token_urlsafe(18)}")


class SandboxGateway(PaymentGateway):
    name = "sandbox"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._payments: _Remembered[CreatedPayment] = _Remembered()
        self._refunds: _Remembered[RequestedRefund] = _Remembered()

    async def create_payment(
        self, amount: int, currency: str, idempotency_key: str, description: str
    ) -> CreatedPayment:
        return self._payments.answer(idempotency_key, _payment)

    async def refund(
        self, reference: str, amount: int, currency: str, idempotency_key: str
    ) -> RequestedRefund:
        return self._refunds.answer(
            idempotency_key, lambda: RequestedRefund(f"sbx_re_{secrets.token_hex(12)}")
        )
