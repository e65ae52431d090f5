"""Sending units of an order (staff's ShipmentCreate).

Some or all of an order's unsent units leave one warehouse in one parcel, with a
carrier and a tracking number (unique per carrier). The units go from where
checkout allocated them when they are in that warehouse; units allocated
elsewhere are swapped for the chosen warehouse's (`app.inventory.dispatch`). The
order becomes PARTIALLY_SHIPPED or SHIPPED, and the customer gets an email with
the tracking link. Anything wrong (more than is left to send, a warehouse
without the units, an order not paid or cancelled, a tracking number used
before) is refused, and nothing changes.

Lock order (`app.inventory.locking`): the order, then the stock rows swapped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.catalog.models import Warehouse
from app.database import upsert, written
from app.errors import DomainError, ErrorCode, Problems, fail
from app.inventory.dispatch import Swap, swap
from app.logistics import emails
from app.logistics.carriers import Carriers, tracking_number
from app.logistics.models import Shipment, ShipmentLine
from app.logistics.picking import Pick, pick, to_ship
from app.logistics.status import ShipmentStatus
from app.orders import access, events, transitions
from app.orders.lines import lines_of
from app.orders.models import Order, OrderEventType, OrderLine, OrderStatus

MAX_LINES = 100
SHIPPABLE = frozenset({OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED})


@dataclass(frozen=True, slots=True)
class ShipUnits:
    order_line_id: int
    quantity: int


@dataclass(frozen=True, slots=True)
class ShipmentRequest:
    warehouse_id: int
    carrier: str
    tracking_number: str
    lines: Sequence[ShipUnits]


@dataclass(frozen=True, slots=True)
class Sent:
    shipment: Shipment
    order: Order


def _refuse_state(order: Order) -> None:
    status = OrderStatus(order.status)
    if status in SHIPPABLE:
        return
    why = {
        OrderStatus.UNPAID: "the order is not paid yet: nothing ships before it is",
        OrderStatus.CANCELLED: "the order is cancelled",
    }.get(status, "everything of the order has been sent")
    raise fail(ErrorCode.INVALID_STATE, why, "order_id")


def _wanted(
    request: ShipmentRequest, lines: Mapping[int, OrderLine], problems: Problems
) -> dict[int, int]:
    """Units per order line, every problem with the lines told at once."""
    if not request.lines:
        problems.add(ErrorCode.REQUIRED, "name the units to send", "input", "lines")
        return {}
    if len(request.lines) > MAX_LINES:
        problems.add(ErrorCode.INVALID, f"at most {MAX_LINES} lines per parcel", "input",
                     "lines")  # fmt: skip
        return {}
    wanted: dict[int, int] = {}
    for i, item in enumerate(request.lines):
        at = ("input", "lines", str(i))
        if item.order_line_id not in lines:
            problems.add(ErrorCode.NOT_FOUND, "no such line in this order", *at, "order_line_id")
        elif item.quantity < 1:
            problems.add(ErrorCode.INVALID, "the quantity must be at least 1", *at, "quantity")
        else:
            wanted[item.order_line_id] = wanted.get(item.order_line_id, 0) + item.quantity
    for i, item in enumerate(request.lines):
        line = lines.get(item.order_line_id)
        if line is not None and item.quantity >= 1 and wanted[item.order_line_id] > to_ship(line):
            problems.add(
                ErrorCode.INVALID,
                f"only {to_ship(line)} of the line's {line.quantity} units are left to send",
                "input", "lines", str(i), "quantity",
            )  # fmt: skip
    return wanted


async def _swap_units(
    session: AsyncSession,
    lines: Mapping[int, OrderLine],
    picks: Mapping[int, Pick],
    warehouse: Warehouse,
    request: ShipmentRequest,
) -> dict[int, int]:
    """Takes the units not allocated to the warehouse from its shelves; the stock row
    taken from per variant. INSUFFICIENT_STOCK, per line, when it has too few (or the
    line's variant is gone)."""
    assert warehouse.id is not None
    gone = {i for i, p in picks.items() if p.missing and lines[i].variant_id is None}
    short: dict[int | None, int] = {}
    if not gone:
        swaps = [
            Swap(lines[i].variant_id or 0, warehouse.id, p.missing, p.back)
            for i, p in picks.items()
            if p.missing
        ]
        taken = await swap(session, swaps) if swaps else {}
        if isinstance(taken, dict):
            return taken
        short = {s.variant_id: s.available for s in taken}
    problems = Problems()
    for i, item in enumerate(request.lines):
        line = lines[item.order_line_id]
        if item.order_line_id in gone or line.variant_id in short:
            problems.add(
                ErrorCode.INSUFFICIENT_STOCK,
                f"{warehouse.name} has {short.get(line.variant_id, 0)} units of {line.sku} "
                "to spare, and the units allocated to this line are elsewhere",
                "input", "lines", str(i), "quantity",
            )  # fmt: skip
    raise DomainError(problems.items)


async def _write_parcel(
    session: AsyncSession,
    order: Order,
    warehouse_id: int,
    carrier: str,
    number: str,
    by: int | None,
    now: datetime,
) -> int:
    """The parcel's row; ALREADY_EXISTS when the carrier's tracking number is taken."""
    shipment_id = (
        await session.exec(  # type: ignore[call-overload]
            upsert(session)(Shipment)
            .values(
                order_id=order.id, warehouse_id=warehouse_id, carrier=carrier,
                tracking_number=number, status=ShipmentStatus.PENDING.value, shipped_at=now,
                created_by=by,
            )
            .on_conflict_do_nothing(index_elements=["carrier", "tracking_number"])
            .returning(Shipment.id)
        )
    ).scalar_one_or_none()  # fmt: skip
    if shipment_id is None:
        raise fail(
            ErrorCode.ALREADY_EXISTS,
            f"{carrier} tracking number {number} belongs to another parcel",
            "input", "tracking_number",
        )  # fmt: skip
    return int(shipment_id)


async def _send_units(
    session: AsyncSession,
    shipment_id: int,
    lines: Mapping[int, OrderLine],
    picks: Mapping[int, Pick],
    rows: Mapping[int, int],
) -> None:
    """Counts the units sent on their lines, with where they sit now, and lists them on
    the parcel: a statement each, however many lines."""
    sent = {
        i: (lines[i].quantity_shipped + p.count, p.records(rows.get(lines[i].variant_id or 0)))
        for i, p in picks.items()
    }
    await session.exec(  # type: ignore[call-overload]
        update(OrderLine),
        params=[
            {"id": i, "quantity_shipped": count, "allocations": records}
            for i, (count, records) in sent.items()
        ],
    )
    await session.exec(  # type: ignore[call-overload]
        insert(ShipmentLine),
        params=[
            {"shipment_id": shipment_id, "order_line_id": i, "quantity": p.count}
            for i, p in sorted(picks.items())
        ],
    )
    for i, (count, records) in sent.items():  # the lines as written
        written(lines[i], quantity_shipped=count, allocations=records)


async def create(
    session: AsyncSession,
    carriers: Carriers,
    order_id: int,
    request: ShipmentRequest,
    by: int | None,
    now: datetime,
) -> Sent:
    carrier = carriers.require(request.carrier, "input", "carrier")
    number = tracking_number(request.tracking_number, "input", "tracking_number")
    order = await transitions.lock(session, order_id)
    if order is None:
        raise access.not_found("order_id")
    assert order.id is not None
    _refuse_state(order)
    warehouse = await session.get(Warehouse, request.warehouse_id)
    problems = Problems()
    if warehouse is None:
        problems.add(ErrorCode.NOT_FOUND, "warehouse not found", "input", "warehouse_id")
    lines = await lines_of(session, order.id)
    wanted = _wanted(request, lines, problems)
    problems.raise_if_any()
    assert warehouse is not None
    assert warehouse.id is not None
    picks = {i: pick(lines[i], warehouse.id, n) for i, n in sorted(wanted.items())}
    rows = await _swap_units(session, lines, picks, warehouse, request)

    shipment_id = await _write_parcel(session, order, warehouse.id, carrier, number, by, now)
    await _send_units(session, shipment_id, lines, picks, rows)
    everything = not any(to_ship(line) for line in lines.values())
    target = OrderStatus.SHIPPED if everything else OrderStatus.PARTIALLY_SHIPPED
    units = sum(wanted.values())
    message = f"{units} units left {warehouse.name} with {carrier} ({number})"
    if target != order.status:  # the status's event tells of the parcel
        transitions.move(session, order, target, message, now, "order_id")
    else:
        events.record(session, order.id, OrderEventType.SHIPMENT_SENT, message, now)
    shipment = await session.get(Shipment, shipment_id)
    assert shipment is not None
    emails.queue_shipped(
        session,
        emails.shipped(order, shipment, list(lines.values()), wanted,
                       carriers.tracking_url(carrier, number), everything),
        now,
    )  # fmt: skip
    await session.flush()
    return Sent(shipment, order)
