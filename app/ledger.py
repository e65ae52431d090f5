"""What a ledger entry (a gift card's, a customer's points) was written for."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Source:
    """The order, payment and refund behind a change of balance; ids only, so that the
    ledgers know no other domain's code."""

    order_id: int | None = None
    payment_id: int | None = None
    refund_id: int | None = None

    def columns(self) -> dict[str, int | None]:
        return {
            "order_id": self.order_id,
            "payment_id": self.payment_id,
            "refund_id": self.refund_id,
        }
