"""The payment gateway: what the shop asks of it, and which one a process uses.

A gateway creates card payments (the client completes them with the returned
secret; the gateway's signed webhook then says how it went) and refunds them.
Each gateway is one subclass of `PaymentGateway` naming itself in `name`, in a
module of this package (every module here is loaded, so the class is all it
takes); `PAYMENT_GATEWAY` chooses one by that name (`open_gateway`). Calls may go over
the network: payments call `create_payment` inside the mutation's transaction
(the reference is stored with the payment) and `refund` only after the
transaction that recorded the refund has committed.
"""

from __future__ import annotations

import importlib
import pkgutil
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from app.settings import Settings, SettingsError


class GatewayError(Exception):
    """The gateway refused or could not be reached; nothing was done there."""


@dataclass(frozen=True, slots=True)
class CreatedPayment:
    reference: str  # the gateway's id of the payment, named in its webhooks
    client_secret: str  # lets the client (browser, app) complete this payment only


@dataclass(frozen=True, slots=True)
class RequestedRefund:
    reference: str  # the gateway's id of the refund


class PaymentGateway(ABC):
    name: ClassVar[str]
    known: ClassVar[dict[str, type[PaymentGateway]]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        PaymentGateway.known[cls.name] = cls

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @abstractmethod
    async def create_payment(
        self, amount: int, currency: str, idempotency_key: str, description: str
    ) -> CreatedPayment:
        """A card payment of `amount` minor units waiting for the client; the same key
        twice gives the same payment."""

    @abstractmethod
    async def refund(
        self, reference: str, amount: int, currency: str, idempotency_key: str
    ) -> RequestedRefund:
        """Gives back `amount` of the payment `reference`; the same key twice refunds once.
        The gateway confirms with a `refund.succeeded` webhook."""


def _register_all() -> None:
    """Imports every module of this package, so that each gateway class registers itself."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def open_gateway(settings: Settings) -> PaymentGateway:
    """The gateway PAYMENT_GATEWAY names; SettingsError (naming it) for an unknown one."""
    _register_all()
    chosen = PaymentGateway.known.get(settings.payment_gateway)
    if chosen is None:
        known = ", ".join(sorted(PaymentGateway.known))
        raise SettingsError(
            f"PAYMENT_GATEWAY must be one of {known}, got {settings.payment_gateway!r}"
        )
    return chosen(settings)
