"""The arithmetic of refunds, as plain functions (no database): what units of a line
give back, and how an amount is split over the tenders that paid.

What a line's units give back is exactly what was paid for them: per unit, the
unit price less the unit's share of the line's discount plus its share of the
line's tax. Shares are whole cents: a line's discount and tax are each spread
over its units with `app.money.units_share` (every unit carries the floor of an
equal share, the remainder cents go to the first units, one each), and units
are refunded first to last. So refunding every unit of a line, at once or in
any number of parts, gives back the line's total to the cent, and no part is
ever more than what its units cost.

The shipping (with its tax) is given back whole, once, when asked for.

The money of a refund goes back through the tenders in a fixed priority,
`TENDER_PRIORITY`: points first, then gift cards, then cards; payments of one
tender in the order they were made. Each payment gives back at most what is
left of it, so refunding everything returns each tender exactly what it paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.money import units_share
from app.payments.models import PaymentMethod

# Which tenders a refund goes back to first. The shop's own tenders come back at once
# (and cost nothing to give back); cards go through the gateway, last.
TENDER_PRIORITY: tuple[PaymentMethod, ...] = (
    PaymentMethod.POINTS,
    PaymentMethod.GIFT_CARD,
    PaymentMethod.CARD,
)


@dataclass(frozen=True, slots=True)
class LineCost:
    """What one order line cost: `quantity` units at `unit_price`, less `discount`, plus
    `tax` (all of the line)."""

    quantity: int
    unit_price: int
    discount: int
    tax: int

    @property
    def total(self) -> int:
        return self.quantity * self.unit_price - self.discount + self.tax


@dataclass(frozen=True, slots=True)
class UnitsRefund:
    """What `count` units give back: their price less their discount plus their tax."""

    count: int
    price: int
    discount: int
    tax: int

    @property
    def amount(self) -> int:
        return self.price - self.discount + self.tax


def units_refund(line: LineCost, earlier: int, count: int) -> UnitsRefund:
    """What units `earlier` to `earlier + count - 1` of a line give back (units are
    refunded first to last); ValueError beyond the line's quantity."""
    if count <= 0 or earlier < 0 or earlier + count > line.quantity:
        raise ValueError(f"units {earlier}..{earlier + count} are not units of the line")
    return UnitsRefund(
        count=count,
        price=line.unit_price * count,
        discount=units_share(line.discount, line.quantity, earlier, count),
        tax=units_share(line.tax, line.quantity, earlier, count),
    )


@dataclass(frozen=True, slots=True)
class Tender:
    """One payment as a refund sees it: its tender, its id (the order it was made in)
    and what is left of it to give back."""

    payment_id: int
    method: PaymentMethod
    refundable: int


def tender_order(tender: Tender) -> tuple[int, int]:
    return TENDER_PRIORITY.index(tender.method), tender.payment_id


class TooMuch(ValueError):
    """More than the payments have left to give back."""


def split_over_tenders(amount: int, tenders: Sequence[Tender]) -> list[tuple[Tender, int]]:
    """`amount` split over the payments in `TENDER_PRIORITY` order, each giving at most
    what is left of it: (payment, part) for every part above zero. TooMuch when the
    payments hold less than `amount` between them."""
    if amount < 0:
        raise ValueError("a refund is not negative")
    left = amount
    parts: list[tuple[Tender, int]] = []
    for tender in sorted(tenders, key=tender_order):
        part = min(left, max(tender.refundable, 0))
        if part > 0:
            parts.append((tender, part))
            left -= part
    if left:
        raise TooMuch(f"{left} more than the payments have left to give back")
    return parts
