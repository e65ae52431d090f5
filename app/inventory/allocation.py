"""Which warehouses ship an order: one when one holds everything, else the fewest.

Pure planning over rows read under lock (`locking.LockedStock`); `sales` writes the plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StockRow:
    stock_id: int
    variant_id: int
    warehouse_id: int
    available: int


@dataclass(frozen=True, slots=True)
class Take:
    """Units of one stock row that went to an order."""

    stock_id: int
    variant_id: int
    warehouse_id: int
    quantity: int

    def record(self) -> dict[str, int]:
        """As an order line keeps it (`OrderLine.allocations`), to ship and to return from."""
        return {
            "stockId": self.stock_id,
            "warehouseId": self.warehouse_id,
            "quantity": self.quantity,
        }


def units_by_row(
    records: Sequence[Mapping[str, int]], quantity: int, earlier: int = 0
) -> dict[int, int]:
    """Which stock rows `quantity` units of an order line came from, per stock id: the
    line's allocation records (`Take.record`) in order, after the `earlier` units already
    given back."""
    skip, left = earlier, quantity
    units: dict[int, int] = {}
    for record in records:
        part = record["quantity"]
        passed = min(skip, part)
        skip -= passed
        given = min(left, part - passed)
        if given > 0:
            units[record["stockId"]] = units.get(record["stockId"], 0) + given
            left -= given
    if left:
        raise ValueError(f"{left} more units than the line was allocated")
    return units


def plan(needs: Mapping[int, int], rows: Sequence[StockRow]) -> list[Take] | dict[int, int]:
    """Units to take per stock row, or `{variant: available}` for what falls short.

    Greedy set cover: the warehouse that can send the most of what is still
    needed goes first (lowest id on ties), so one warehouse is used whenever one
    can send everything; with two warehouses the result is optimal.
    """
    by_variant: dict[int, int] = {}
    for row in rows:
        by_variant[row.variant_id] = by_variant.get(row.variant_id, 0) + max(row.available, 0)
    short = {v: by_variant.get(v, 0) for v, n in needs.items() if by_variant.get(v, 0) < n}
    if short:
        return short
    left = {v: n for v, n in needs.items() if n > 0}
    stock = {(r.warehouse_id, r.variant_id): r for r in rows if r.available > 0}
    warehouses = sorted({r.warehouse_id for r in rows})
    takes: list[Take] = []
    while left:
        best = max(
            warehouses,
            key=lambda w: (
                sum(min(n, stock[(w, v)].available) for v, n in left.items() if (w, v) in stock),
                -w,
            ),
        )
        for variant_id, need in list(left.items()):
            row = stock.get((best, variant_id))
            if row is None:
                continue
            part = min(need, row.available)
            takes.append(Take(row.stock_id, variant_id, best, part))
            if part == need:
                del left[variant_id]
            else:
                left[variant_id] = need - part
        warehouses.remove(best)
    return takes
