"""Refunds of units of an order's lines, and of its shipping: staff's OrderRefund and
approved returns.

What units give back, and how the money is split over the tenders, is the plain
arithmetic of `app.payments.arithmetic`; this module applies it to a locked
order. Never more than was paid: a line gives back at most its units not yet
refunded (a conditional update of `order_line.quantity_refunded` stays the
backstop), the shipping once, and the payments at most what is left of them (the
conditional update of `payment.refunded`), whatever runs at once.

Units not yet sent go back on the shelves when refunded (a line's unsent units are
refunded first); sent units are with the customer, and come back through a
return (`app.returns`), which puts back those not damaged.

Points: a refund of a completed order takes back the points it earned in
proportion to what was refunded (REVOKED), as far as the balance holds them; the
points that paid for it come back with the points payment's refund.

Lock order (`app.inventory.locking`): the order (locked by the caller), the stock
rows of units put back, then gift cards and points (`Refunder`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlalchemy import case, insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.database import written
from app.errors import ErrorCode, Problems, fail
from app.inventory.returns import ReturnedUnits, return_units
from app.ledger import Source
from app.logistics.delivery import settle_after_refund
from app.logistics.picking import to_ship
from app.loyalty import points
from app.money import display, scale
from app.orders import access, events, transitions
from app.orders.lines import lines_of
from app.orders.models import Order, OrderEventType, OrderLine, OrderStatus
from app.payments.arithmetic import LineCost, Tender, TooMuch, split_over_tenders, units_refund
from app.payments.models import (
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundKind,
    RefundLine,
)
from app.payments.refunds import Part, Refunder


class Unsent(Enum):
    """`refund_units(restock=UNSENT)`: the refunded units not yet sent go back."""

    UNSENT = "UNSENT"


UNSENT = Unsent.UNSENT

# Orders whose money can be given back in part: paid, and not cancelled (a cancellation
# gives back everything at once).
REFUNDABLE = frozenset(
    {
        OrderStatus.PAID,
        OrderStatus.PARTIALLY_SHIPPED,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
        OrderStatus.COMPLETED,
    }
)
MAX_REASON_LENGTH = 2000
MAX_LINES = 100


@dataclass(frozen=True, slots=True)
class Units:
    """`quantity` units of the order line `order_line_id`."""

    order_line_id: int
    quantity: int


@dataclass(frozen=True, slots=True)
class RefundRequest:
    lines: Sequence[Units]
    include_shipping: bool = False
    reason: str = ""


def cost_of(line: OrderLine) -> LineCost:
    return LineCost(line.quantity, line.unit_price, line.discount_allocated, line.tax)


def check_reason(reason: str | None, *field: str) -> str:
    text = (reason or "").strip()
    if len(text) > MAX_REASON_LENGTH:
        raise fail(
            ErrorCode.INVALID, f"the reason may have at most {MAX_REASON_LENGTH} characters", *field
        )
    return text


def merged(
    units: Sequence[Units], lines: Mapping[int, OrderLine], problems: Problems, *field: str
) -> dict[int, int]:
    """Units per line of the order, the same line named twice counted once; problems (at
    `field`, index, ...) for a line of another order or a quantity under one."""
    if len(units) > MAX_LINES:
        problems.add(ErrorCode.INVALID, f"name at most {MAX_LINES} lines", *field)
        return {}
    wanted: dict[int, int] = {}
    for index, item in enumerate(units):
        at = (*field, str(index))
        if item.order_line_id not in lines:
            problems.add(ErrorCode.NOT_FOUND, "no line of this order has this id", *at,
                         "order_line_id")  # fmt: skip
        elif item.quantity < 1:
            problems.add(ErrorCode.INVALID, "the quantity must be at least 1", *at, "quantity")
        else:
            wanted[item.order_line_id] = wanted.get(item.order_line_id, 0) + item.quantity
    return wanted


async def refund_units(
    session: AsyncSession,
    refunder: Refunder,
    order: Order,
    request: RefundRequest,
    kind: RefundKind,
    by: int | None,
    now: datetime,
    restock: Mapping[int, int] | bool | Unsent = False,
    field: tuple[str, ...] = ("input",),
    order_field: str = "order_id",
) -> Refund | None:
    """Gives back units of a locked order's lines (and its shipping, if asked), through
        its tenders in `TENDER_PRIORITY`; `restock` (units per line, True: every unit
    refunded, UNSENT: those not sent yet) go back on the shelves. A partly shipped order
    left with nothing to send has shipped (`app.logistics.delivery`).
        The refund (None when what was asked for cost nothing). AMOUNT_EXCEEDED when any of
        it was refunded already; INVALID_STATE for an order not paid, or cancelled."""
    assert order.id is not None
    status = OrderStatus(order.status)
    if status not in REFUNDABLE:
        raise fail(
            ErrorCode.INVALID_STATE,
            f"the order is {status.value.lower()}: nothing of it can be refunded",
            order_field,
        )
    lines = await lines_of(session, order.id)
    problems = Problems()
    wanted = merged(request.lines, lines, problems, *field, "lines")
    problems.raise_if_any()
    index = {item.order_line_id: i for i, item in enumerate(request.lines)}
    amounts: dict[int, int] = {}
    for line_id, count in wanted.items():
        line = lines[line_id]
        left = line.quantity - line.quantity_refunded
        if count > left:
            problems.add(
                ErrorCode.AMOUNT_EXCEEDED,
                f"only {left} of the line's {line.quantity} units are left to refund",
                *field, "lines", str(index[line_id]), "quantity",
            )  # fmt: skip
            continue
        amounts[line_id] = units_refund(cost_of(line), line.quantity_refunded, count).amount
    shipping = 0
    if request.include_shipping:
        paid_shipping = order.shipping_total + order.shipping_tax
        if paid_shipping and order.shipping_refunded >= paid_shipping:
            problems.add(
                ErrorCode.AMOUNT_EXCEEDED, "the shipping was refunded already",
                *field, "include_shipping",
            )  # fmt: skip
        shipping = paid_shipping - order.shipping_refunded
    if not wanted and not request.include_shipping:
        problems.add(ErrorCode.REQUIRED, "name the lines to refund, or the shipping", *field,
                     "lines")  # fmt: skip
    problems.raise_if_any()
    total = sum(amounts.values()) + shipping
    parts = await _parts(session, order, total)
    if restock is UNSENT:
        sending = status in (OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED)
        back = {i: min(n, to_ship(lines[i])) if sending else 0 for i, n in wanted.items()}
    else:
        back = dict(wanted) if restock is True else dict(restock or {})  # type: ignore[arg-type]

    await _count_lines(session, lines, wanted, amounts, back)
    order.shipping_refunded += shipping
    if any(back.values()):
        await return_units(
            session,
            [
                ReturnedUnits(lines[i].allocations, n, earlier=lines[i].quantity_restocked)
                for i, n in sorted(back.items())
                if n > 0
            ],
        )
        for i, n in back.items():  # the lines as written, now their units are back
            written(lines[i], quantity_restocked=lines[i].quantity_restocked + n)
    refund: Refund | None = None
    if total > 0:
        refund = await refunder.refund(session, order, kind, parts, request.reason, by, now)
        assert refund.id is not None
        refund.shipping = shipping
        if wanted:
            await session.exec(  # type: ignore[call-overload]
                insert(RefundLine),
                params=[
                    {"refund_id": refund.id, "order_line_id": i, "quantity": n,
                     "amount": amounts[i]}
                    for i, n in sorted(wanted.items())
                ],
            )  # fmt: skip
    await revoke_earned_points(session, order, now, refund.id if refund else None)
    await settle_after_refund(session, order, lines.values(), now)
    await session.flush()
    return refund


async def _parts(session: AsyncSession, order: Order, total: int) -> list[Part]:
    """`total` split over the order's successful payments, in `TENDER_PRIORITY`."""
    if total == 0:
        return []
    paid = (
        await session.exec(
            select(Payment)
            .where(Payment.order_id == order.id, Payment.status == PaymentStatus.SUCCEEDED)
            .order_by(col(Payment.id))
            .execution_options(populate_existing=True)
        )
    ).all()
    by_id = {p.id: p for p in paid if p.id is not None}
    tenders = [Tender(i, PaymentMethod(p.method), p.refundable) for i, p in by_id.items()]
    try:
        split = split_over_tenders(total, tenders)
    except TooMuch:
        left = sum(t.refundable for t in tenders)
        raise fail(
            ErrorCode.AMOUNT_EXCEEDED,
            f"{display(total, order.currency)} is more than is left of what was paid "
            f"({display(left, order.currency)})",
        ) from None
    return [Part(by_id[tender.payment_id], amount) for tender, amount in split]


async def _count_lines(
    session: AsyncSession,
    lines: Mapping[int, OrderLine],
    wanted: Mapping[int, int],
    amounts: Mapping[int, int],
    restock: Mapping[int, int],
) -> None:
    """Adds the units refunded (and restocked) to their lines, in one conditional
    statement: AMOUNT_EXCEEDED, and the transaction rolls back, if any line has fewer
    units left than that (whatever ran meanwhile)."""
    if not wanted:
        return
    ids = sorted(wanted)
    line_id = col(OrderLine.id)
    counted = await session.exec(  # type: ignore[call-overload]
        update(OrderLine)
        .where(
            line_id.in_(ids),
            col(OrderLine.quantity_refunded) + case(dict(wanted), value=line_id, else_=0)
            <= col(OrderLine.quantity),
        )
        .values(
            quantity_refunded=col(OrderLine.quantity_refunded)
            + case(dict(wanted), value=line_id, else_=0),
            amount_refunded=col(OrderLine.amount_refunded)
            + case(dict(amounts), value=line_id, else_=0),
            quantity_restocked=col(OrderLine.quantity_restocked)
            + case({i: restock.get(i, 0) for i in ids}, value=line_id, else_=0),
        )
        # The loaded lines are told below what was written.
        .execution_options(synchronize_session=False)
    )
    if counted.rowcount != len(ids):
        raise fail(ErrorCode.AMOUNT_EXCEEDED, "these units were refunded meanwhile")
    for i in ids:  # the lines as written (their units restocked before are still the old)
        line = lines[i]
        written(
            line,
            quantity_refunded=line.quantity_refunded + wanted[i],
            amount_refunded=line.amount_refunded + amounts[i],
        )


async def revoke_earned_points(
    session: AsyncSession, order: Order, now: datetime, refund_id: int | None
) -> int:
    """After a refund of a completed order: takes back what the customer earned on the
    part refunded (all refunds so far), as far as the balance holds it; how many."""
    if order.status != OrderStatus.COMPLETED or order.user_id is None or order.total <= 0:
        return 0
    assert order.id is not None
    earned, revoked = await points.earned_and_revoked(session, order.user_id, order.id)
    kept = scale(earned, max(order.total - order.total_refunded, 0), order.total, up=True)
    owed = earned - kept - revoked
    if owed <= 0:
        return 0
    taken = await points.revoke(
        session, order.user_id, owed, Source(order_id=order.id, refund_id=refund_id), now
    )
    if taken:
        events.record(
            session, order.id, OrderEventType.POINTS_REVOKED,
            f"{taken} points earned on the refunded part taken back", now,
        )  # fmt: skip
    return taken


async def refund_for_staff(
    session: AsyncSession,
    refunder: Refunder,
    order_id: int,
    request: RefundRequest,
    by: int,
    now: datetime,
) -> tuple[Order, Refund | None]:
    """OrderRefund: staff give back units of lines and perhaps the shipping. Units of an
    order not yet sent go back on the shelves."""
    order = await transitions.lock(session, order_id)
    if order is None:
        raise access.not_found("order_id")
    reason = check_reason(request.reason, "input", "reason")
    refund = await refund_units(
        session, refunder, order,
        RefundRequest(request.lines, request.include_shipping, reason),
        RefundKind.LINES, by, now, restock=UNSENT,
    )  # fmt: skip
    return order, refund
