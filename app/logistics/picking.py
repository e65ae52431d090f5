"""Which units of an order line are still to send, and where they sit.

A line's allocation records (`OrderLine.allocations`, written at checkout) list
where its units were taken, in unit order. Shipping keeps that order meaningful:
first the units given back before shipping (`quantity_restocked`), then those
still to send, then those sent (`quantity_shipped`). Restocking reads units from
the front (`app.inventory.returns`), so a refund of a line not yet sent in full
puts back units that are still on the shelves' side, in the warehouse they were
taken from, and a return of delivered units puts them back where they left.

Plain functions: no database, no GraphQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from app.orders.models import OrderLine


def to_ship(line: OrderLine) -> int:
    """Units of the line still to send (meaningful until the order is delivered: returns
    restock units that were sent)."""
    return max(line.quantity - line.quantity_restocked - line.quantity_shipped, 0)


@dataclass(frozen=True, slots=True)
class Segment:
    stock_id: int
    warehouse_id: int
    quantity: int

    def record(self) -> dict[str, int]:
        return {"stockId": self.stock_id, "warehouseId": self.warehouse_id,
                "quantity": self.quantity}  # fmt: skip


def _segments(records: Sequence[Mapping[str, int]]) -> list[Segment]:
    return [
        Segment(int(r["stockId"]), int(r["warehouseId"]), int(r["quantity"]))
        for r in records
        if int(r["quantity"]) > 0
    ]


def _cut(segments: list[Segment], units: int) -> tuple[list[Segment], list[Segment]]:
    """The first `units` units, and the rest."""
    head: list[Segment] = []
    tail: list[Segment] = []
    left = units
    for seg in segments:
        if left >= seg.quantity:
            head.append(seg)
            left -= seg.quantity
        elif left > 0:
            head.append(Segment(seg.stock_id, seg.warehouse_id, left))
            tail.append(Segment(seg.stock_id, seg.warehouse_id, seg.quantity - left))
            left = 0
        else:
            tail.append(seg)
    return head, tail


def _joined(segments: Sequence[Segment]) -> list[Segment]:
    """Neighbouring segments of one stock row as one."""
    out: list[Segment] = []
    for seg in segments:
        if seg.quantity <= 0:
            continue
        if out and out[-1].stock_id == seg.stock_id:
            last = out[-1]
            out[-1] = Segment(last.stock_id, last.warehouse_id, last.quantity + seg.quantity)
        else:
            out.append(seg)
    return out


@dataclass(frozen=True, slots=True)
class Pick:
    """`count` units of a line leaving `warehouse_id`: those allocated there already, and
    `missing` more to take from that warehouse's shelves, in place of as many units
    allocated elsewhere that go back to their rows (`back`, units per stock id)."""

    warehouse_id: int
    count: int
    missing: int
    back: dict[int, int] = field(default_factory=dict)
    kept: list[Segment] = field(default_factory=list)  # given back, then still to send
    sent: list[Segment] = field(default_factory=list)  # sent before, then these

    def records(self, warehouse_stock_id: int | None) -> list[dict[str, int]]:
        """The line's allocation records after this pick; `warehouse_stock_id`: the row the
        `missing` units were taken from."""
        sent = list(self.sent)
        if self.missing:
            assert warehouse_stock_id is not None, "missing units come from a stock row"
            sent.append(Segment(warehouse_stock_id, self.warehouse_id, self.missing))
        return [seg.record() for seg in _joined([*self.kept, *sent])]


def _without(segments: Sequence[Segment], taken: Mapping[int, int]) -> list[Segment]:
    """`segments` less `taken` units per stock id, taken from the first segments."""
    left = dict(taken)
    out: list[Segment] = []
    for seg in segments:
        take = min(left.get(seg.stock_id, 0), seg.quantity)
        left[seg.stock_id] = left.get(seg.stock_id, 0) - take
        out.append(Segment(seg.stock_id, seg.warehouse_id, seg.quantity - take))
    return out


def pick(line: OrderLine, warehouse_id: int, count: int) -> Pick:
    """Which units go when `count` units of `line` leave `warehouse_id`. The caller has
    checked that `count` <= `to_ship(line)`."""
    if count > to_ship(line):
        raise ValueError(f"{count} units asked, {to_ship(line)} left to send")
    segments = _segments(line.allocations)
    restocked, rest = _cut(segments, line.quantity_restocked)
    waiting, sent = _cut(rest, to_ship(line))
    # Units waiting in the chosen warehouse go first; then units allocated elsewhere are
    # swapped for units of the chosen warehouse.
    chosen: list[Segment] = []
    left = count
    remaining: list[Segment] = []
    for seg in waiting:
        if seg.warehouse_id == warehouse_id and left:
            take = min(left, seg.quantity)
            chosen.append(Segment(seg.stock_id, seg.warehouse_id, take))
            remaining.append(Segment(seg.stock_id, seg.warehouse_id, seg.quantity - take))
            left -= take
        else:
            remaining.append(seg)
    back: dict[int, int] = {}
    for seg in remaining if left else ():
        if seg.warehouse_id != warehouse_id and left:
            take = min(left, seg.quantity)
            back[seg.stock_id] = back.get(seg.stock_id, 0) + take
            left -= take
    swapped = sum(back.values())
    if swapped:
        remaining = _without(remaining, back)
    # Units the records do not hold (none, since checkout records every unit) would leave
    # with no row to account them to; they are counted sent all the same.
    return Pick(
        warehouse_id=warehouse_id,
        count=count,
        missing=swapped,
        back=back,
        kept=_joined([*restocked, *remaining]),
        sent=_joined([*sent, *chosen]),
    )
