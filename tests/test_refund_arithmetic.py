"""The arithmetic of refunds over many random orders, without a database: what units
give back, and how refunds are split over the tenders that paid.

For random orders (lines with discounts and tax, shipping, paid by a random mix of
points, gift cards and cards) and random sequences of partial refunds: no refund
ever gives back more than was paid, per line, per tender and per order; refunding
everything, in any number of parts, gives back the total to the cent, each tender
exactly what it paid."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.money import allocate, units_share
from app.payments.arithmetic import (
    TENDER_PRIORITY,
    LineCost,
    Tender,
    TooMuch,
    split_over_tenders,
    tender_order,
    units_refund,
)
from app.payments.models import PaymentMethod


@given(
    total=st.integers(0, 10**9),
    units=st.integers(1, 60),
    data=st.data(),
)
def test_units_share_is_the_largest_remainder_split_of_equal_units(
    total: int, units: int, data: st.DataObject
) -> None:
    first = data.draw(st.integers(0, units - 1))
    count = data.draw(st.integers(0, units - first))
    assert units_share(total, units, first, count) == sum(
        allocate(total, [1] * units)[first : first + count]
    )


@st.composite
def line_costs(draw: st.DrawFn) -> LineCost:
    quantity = draw(st.integers(1, 40))
    unit_price = draw(st.integers(0, 100_000))
    discount = draw(st.integers(0, quantity * unit_price))
    # Tax on what is left after the discount, at a rate of 0-27 %, rounded half up.
    rate = draw(st.integers(0, 2700))
    tax = (2 * (quantity * unit_price - discount) * rate + 10_000) // 20_000
    return LineCost(quantity, unit_price, discount, tax)


def _parts(draw: st.DrawFn, total: int) -> list[int]:
    """`total` cut into 1..total consecutive positive parts."""
    if total == 0:
        return []
    cuts = sorted(set(draw(st.lists(st.integers(1, total - 1), max_size=8)))) if total > 1 else []
    bounds = [0, *cuts, total]
    return [b - a for a, b in itertools.pairwise(bounds)]


@given(line=line_costs(), data=st.data())
def test_a_line_refunded_in_parts_gives_back_its_total_and_never_more(
    line: LineCost, data: st.DataObject
) -> None:
    given_back = 0
    done = 0
    for count in _parts(data.draw, line.quantity):
        part = units_refund(line, done, count)
        done += count
        given_back += part.amount
        assert part.amount >= 0
        # Never more than the units' price, and never more than what was paid so far.
        assert part.amount <= count * line.unit_price + part.tax
        assert given_back <= line.total
        # Each part is within a cent per unit of its exact share of the line's total.
        assert abs(part.amount * line.quantity - line.total * count) <= 2 * count * line.quantity
    assert given_back == line.total
    with pytest.raises(ValueError, match="not units of the line"):
        units_refund(line, line.quantity, 1)


def test_a_line_of_three_gives_the_remainder_cents_to_its_first_units() -> None:
    # 3 x 10.00, 1.00 off, 19 % tax on 29.00 = 5.51: total 34.51.
    line = LineCost(quantity=3, unit_price=1000, discount=100, tax=551)
    parts = [units_refund(line, i, 1).amount for i in range(3)]
    assert parts == [1000 - 34 + 184, 1000 - 33 + 184, 1000 - 33 + 183]
    assert sum(parts) == line.total == 3451


METHODS = st.sampled_from(list(PaymentMethod))


@dataclass
class Order:
    """What the services keep of an order, as plain numbers."""

    lines: list[LineCost]
    shipping: int
    paid: list[Tender]  # what each payment paid
    refunded_units: list[int] = field(default_factory=list)
    shipping_refunded: bool = False
    left: dict[int, int] = field(default_factory=dict)  # payment id -> left to give back

    def __post_init__(self) -> None:
        self.refunded_units = [0] * len(self.lines)
        self.left = {t.payment_id: t.refundable for t in self.paid}

    @property
    def total(self) -> int:
        return sum(line.total for line in self.lines) + self.shipping

    def tenders(self) -> list[Tender]:
        return [Tender(t.payment_id, t.method, self.left[t.payment_id]) for t in self.paid]

    def refund(self, units: dict[int, int], shipping: bool) -> list[tuple[Tender, int]]:
        """What `app.payments.lines.refund_units` does, without the database."""
        amount = 0
        for index, count in units.items():
            amount += units_refund(self.lines[index], self.refunded_units[index], count).amount
        if shipping:
            amount += self.shipping
        split = split_over_tenders(amount, self.tenders())
        for index, count in units.items():
            self.refunded_units[index] += count
        self.shipping_refunded |= shipping
        for tender, part in split:
            self.left[tender.payment_id] -= part
        return split


@st.composite
def orders(draw: st.DrawFn) -> Order:
    lines = draw(st.lists(line_costs(), min_size=1, max_size=6))
    shipping = draw(st.integers(0, 3000))
    total = sum(line.total for line in lines) + shipping
    # Paid by 1-4 payments of random tenders, in random shares of the total.
    methods = draw(st.lists(METHODS, min_size=1, max_size=4))
    weights = draw(st.lists(st.integers(1, 100), min_size=len(methods), max_size=len(methods)))
    amounts = allocate(total, weights)
    paid = [
        Tender(payment_id=i + 1, method=method, refundable=amount)
        for i, (method, amount) in enumerate(zip(methods, amounts, strict=True))
    ]
    return Order(lines, shipping, paid)


@settings(max_examples=300)
@given(order=orders(), data=st.data())
def test_random_partial_refunds_never_exceed_what_was_paid_and_everything_returns_the_total(
    order: Order, data: st.DataObject
) -> None:
    paid_by = {t.payment_id: t.refundable for t in order.paid}
    given_back: dict[int, int] = dict.fromkeys(paid_by, 0)
    # Random partial refunds: some units of some lines, perhaps the shipping.
    for _ in range(data.draw(st.integers(0, 12))):
        open_lines = [
            i for i, line in enumerate(order.lines) if order.refunded_units[i] < line.quantity
        ]
        if not open_lines and order.shipping_refunded:
            break
        chosen = data.draw(st.lists(st.sampled_from(open_lines), unique=True)) if open_lines else []
        units = {
            i: data.draw(st.integers(1, order.lines[i].quantity - order.refunded_units[i]))
            for i in chosen
        }
        shipping = not order.shipping_refunded and data.draw(st.booleans())
        for tender, part in order.refund(units, shipping):
            given_back[tender.payment_id] += part
        # Never more than was paid: per tender, per order.
        assert all(given_back[i] <= paid_by[i] for i in paid_by)
        assert sum(given_back.values()) <= order.total
    # Then everything left, in one refund.
    rest = {
        i: line.quantity - order.refunded_units[i]
        for i, line in enumerate(order.lines)
        if line.quantity > order.refunded_units[i]
    }
    if rest or not order.shipping_refunded:
        for tender, part in order.refund(rest, not order.shipping_refunded):
            given_back[tender.payment_id] += part
    assert sum(given_back.values()) == order.total
    assert given_back == paid_by  # every tender exactly what it paid
    # Nothing is left: a cent more is refused.
    with pytest.raises(TooMuch):
        split_over_tenders(1, order.tenders())


@given(
    amount=st.integers(0, 10**7),
    tenders=st.lists(
        st.builds(Tender, st.integers(1, 10**6), METHODS, st.integers(0, 10**6)),
        max_size=6,
        unique_by=lambda t: t.payment_id,
    ),
)
def test_the_split_follows_the_tender_priority(amount: int, tenders: list[Tender]) -> None:
    available = sum(t.refundable for t in tenders)
    if amount > available:
        with pytest.raises(TooMuch):
            split_over_tenders(amount, tenders)
        return
    split = split_over_tenders(amount, tenders)
    assert sum(part for _, part in split) == amount
    assert all(0 < part <= tender.refundable for tender, part in split)
    # In priority order; every payment before the last one used is used up.
    used = [tender for tender, _ in split]
    assert used == sorted(used, key=tender_order)
    for tender, part in split[:-1]:
        assert part == tender.refundable
    if split:
        last = used[-1]
        assert all(
            t.refundable == 0 or tender_order(t) > tender_order(last)
            for t in tenders
            if t not in used
        )


def test_points_then_gift_cards_then_cards() -> None:
    assert TENDER_PRIORITY == (PaymentMethod.POINTS, PaymentMethod.GIFT_CARD, PaymentMethod.CARD)
    tenders = [
        Tender(1, PaymentMethod.CARD, 5000),
        Tender(2, PaymentMethod.GIFT_CARD, 1000),
        Tender(3, PaymentMethod.POINTS, 300),
        Tender(4, PaymentMethod.GIFT_CARD, 700),
    ]
    split = split_over_tenders(2500, tenders)
    assert [(t.payment_id, part) for t, part in split] == [(3, 300), (2, 1000), (4, 700), (1, 500)]
