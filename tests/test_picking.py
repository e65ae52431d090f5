"""Properties of `app.logistics.picking`: which units of a line leave, and where they sit."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.logistics.picking import pick, to_ship
from app.orders.models import OrderLine

WAREHOUSE_OF = {10: 1, 11: 1, 20: 2, 30: 3}  # stock row -> warehouse (rows 10, 11: one variant)
W_STOCK = {1: 10, 2: 20, 3: 30}  # the row a swap takes from, per warehouse


@st.composite
def lines(draw: st.DrawFn) -> OrderLine:
    parts = draw(st.lists(st.tuples(st.sampled_from(sorted(WAREHOUSE_OF)),
                                    st.integers(1, 5)), min_size=1, max_size=4))  # fmt: skip
    quantity = sum(n for _, n in parts)
    restocked = draw(st.integers(0, quantity))
    shipped = draw(st.integers(0, quantity - restocked))
    return OrderLine(
        order_id=1, sku="s", product_name="p", variant_name="v", quantity=quantity,
        unit_price=1, subtotal=quantity, discount_allocated=0, tax=0, total=quantity,
        allocations=[{"stockId": s, "warehouseId": WAREHOUSE_OF[s], "quantity": n}
                     for s, n in parts],
        quantity_restocked=restocked, quantity_shipped=shipped,
    )  # fmt: skip


def _units(records: list[dict[str, int]]) -> dict[int, int]:
    found: dict[int, int] = {}
    for r in records:
        found[r["stockId"]] = found.get(r["stockId"], 0) + r["quantity"]
    return found


@settings(max_examples=300, deadline=None)
@given(lines(), st.sampled_from([1, 2, 3]), st.data())
def test_a_pick_moves_units_without_losing_or_inventing_any(
    line: OrderLine, warehouse: int, data: st.DataObject
) -> None:
    left = to_ship(line)
    count = data.draw(st.integers(0, left))
    chosen = pick(line, warehouse, count)
    records = chosen.records(W_STOCK[warehouse])

    # Every unit of the line is still accounted to one row, in unit order.
    assert sum(r["quantity"] for r in records) == line.quantity
    # Units allocated elsewhere go back as many as the chosen warehouse gives.
    assert sum(chosen.back.values()) == chosen.missing
    assert all(WAREHOUSE_OF[s] != warehouse for s in chosen.back)
    before, after = _units(line.allocations), _units(records)
    for stock_id in set(before) | set(after):
        taken = chosen.missing if stock_id == W_STOCK[warehouse] else 0
        assert (
            after.get(stock_id, 0) == before.get(stock_id, 0) - chosen.back.get(stock_id, 0) + taken
        )
    # The units given back before keep their place at the front (restocking reads them).
    restocked = line.quantity_restocked
    assert _prefix(records, restocked) == _prefix(line.allocations, restocked)
    # The units just sent sit in the chosen warehouse, at the end, after those sent before.
    sent_now = _suffix(records, count)
    assert all(WAREHOUSE_OF.get(s, warehouse) == warehouse for s in _units(sent_now))


def _expand(records: list[dict[str, int]]) -> list[int]:
    return [r["stockId"] for r in records for _ in range(r["quantity"])]


def _prefix(records: list[dict[str, int]], units: int) -> list[int]:
    return _expand(records)[:units]


def _suffix(records: list[dict[str, int]], units: int) -> list[dict[str, int]]:
    tail = _expand(records)[len(_expand(records)) - units :] if units else []
    return [{"stockId": s, "quantity": 1} for s in tail]


def test_units_sent_before_stay_sent_and_a_refund_reads_the_unsent_first() -> None:
    line = OrderLine(
        order_id=1, sku="s", product_name="p", variant_name="v", quantity=4, unit_price=1,
        subtotal=4, discount_allocated=0, tax=0, total=4,
        allocations=[{"stockId": 10, "warehouseId": 1, "quantity": 2},
                     {"stockId": 20, "warehouseId": 2, "quantity": 2}],
    )  # fmt: skip
    first = pick(line, 2, 2)
    assert first.missing == 0
    records = first.records(None)
    # Berlin's units wait at the front; Hamburg's two are sent, at the end.
    assert _expand(records) == [10, 10, 20, 20]
    line.allocations, line.quantity_shipped = records, 2
    second = pick(line, 2, 1)  # one more from Hamburg: a Berlin unit is swapped
    assert second.back == {10: 1}
    assert _expand(second.records(20)) == [10, 20, 20, 20]
