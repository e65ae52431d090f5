"""Returns: a customer asks to send back units of a delivered order, within the return
window (`RETURN_WINDOW_DAYS` after delivery), with a reason; staff approve (the
units are refunded, and those not damaged go back on the shelves) or reject it
with a reason the customer is told by email.

A line can be asked back for at most its units not yet refunded, less those in
requests still waiting. Staff say which units came back damaged when approving
(`damaged`): they are refunded all the same, and stay off the shelves.

Lock order (`app.inventory.locking`): the order first (a request belongs to its
order), then what the refund locks (`app.payments.lines`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.permissions import Viewer
from app.errors import DomainError, ErrorCode, Problems, fail
from app.orders import access, emails, events, transitions
from app.orders.lines import lines_of
from app.orders.models import Order, OrderEventType, OrderStatus
from app.payments.lines import RefundRequest, Units, check_reason, merged, refund_units
from app.payments.models import RefundKind
from app.payments.refunds import Refunder
from app.returns.models import ReturnRequest, ReturnRequestLine, ReturnStatus

RETURNABLE = frozenset({OrderStatus.DELIVERED, OrderStatus.COMPLETED})


def not_found(*field: str) -> DomainError:
    return fail(ErrorCode.NOT_FOUND, "return request not found", *field)


async def _waiting(session: AsyncSession, order_id: int) -> dict[int, int]:
    """Units per order line in the order's requests still waiting for staff."""
    rows = await session.exec(
        select(ReturnRequestLine.order_line_id, func.sum(ReturnRequestLine.quantity))
        .join(ReturnRequest, col(ReturnRequest.id) == col(ReturnRequestLine.return_request_id))
        .where(ReturnRequest.order_id == order_id, ReturnRequest.status == ReturnStatus.REQUESTED)
        .group_by(ReturnRequestLine.order_line_id)
    )
    return {line_id: int(units or 0) for line_id, units in rows.all()}


def _window_closes(order: Order, window_days: int) -> datetime | None:
    if OrderStatus(order.status) not in RETURNABLE or order.delivered_at is None:
        return None
    return order.delivered_at + timedelta(days=window_days)


async def request_return(
    session: AsyncSession,
    viewer: Viewer,
    order_id: int,
    units: Sequence[Units],
    reason: str,
    window_days: int,
    now: datetime,
) -> ReturnRequest:
    """ReturnRequestCreate, for the order's owner (and order staff)."""
    order = access.require_visible(viewer, await transitions.lock(session, order_id), "order_id")
    assert order.id is not None
    problems = Problems()
    why = check_reason(reason, "reason")
    if not why:
        problems.add(ErrorCode.REQUIRED, "say why the items go back", "reason")
    closes = _window_closes(order, window_days)
    if closes is None:
        status = OrderStatus(order.status).value.lower().replace("_", " ")
        raise fail(
            ErrorCode.INVALID_STATE,
            f"the order is {status}: only delivered orders can be returned",
            "order_id",
        )
    if now > closes:
        raise fail(
            ErrorCode.INVALID_STATE,
            f"the return window closed on {closes.date().isoformat()} ({window_days} days "
            "after delivery)",
            "order_id",
        )
    lines = await lines_of(session, order.id)
    if not units:
        problems.add(ErrorCode.REQUIRED, "name the lines to return", "lines")
    wanted = merged(units, lines, problems, "lines")
    problems.raise_if_any()
    waiting = await _waiting(session, order.id)
    index = {item.order_line_id: i for i, item in enumerate(units)}
    for line_id, count in wanted.items():
        line = lines[line_id]
        left = line.quantity - line.quantity_refunded - waiting.get(line_id, 0)
        if count > left:
            problems.add(
                ErrorCode.INVALID,
                f"only {max(left, 0)} units of this line can be returned",
                "lines", str(index[line_id]), "quantity",
            )  # fmt: skip
    problems.raise_if_any()
    request = ReturnRequest(
        order_id=order.id,
        status=ReturnStatus.REQUESTED.value,
        reason=why,
        created_by=viewer.user_id,
        created_at=now,
    )
    session.add(request)
    await session.flush()
    await session.exec(  # type: ignore[call-overload]
        insert(ReturnRequestLine),
        params=[
            {"return_request_id": request.id, "order_line_id": i, "quantity": n, "damaged": 0}
            for i, n in sorted(wanted.items())
        ],
    )
    events.record(
        session, order.id, OrderEventType.RETURN_REQUESTED,
        f"return of {sum(wanted.values())} units requested: {why}", now,
    )  # fmt: skip
    return request


async def _locked(session: AsyncSession, request_id: int) -> tuple[Order, ReturnRequest]:
    """The request's order locked (the lock order), then the request as it is under it."""
    found = await session.get(ReturnRequest, request_id)
    if found is None:
        raise not_found("id")
    order = await transitions.lock(session, found.order_id)
    request = await session.get(ReturnRequest, request_id, populate_existing=True)
    assert order is not None
    assert request is not None
    if request.status != ReturnStatus.REQUESTED:
        raise fail(
            ErrorCode.INVALID_STATE,
            f"the return was {ReturnStatus(request.status).value.lower()} already",
            "id",
        )
    return order, request


async def approve(
    session: AsyncSession,
    refunder: Refunder,
    viewer: Viewer,
    request_id: int,
    damaged: Sequence[Units],
    note: str | None,
    now: datetime,
) -> ReturnRequest:
    """ReturnRequestApprove (staff): the units are refunded (through the tenders, as any
    refund), and those not `damaged` go back on the shelves."""
    order, request = await _locked(session, request_id)
    assert order.id is not None
    said = check_reason(note, "note")
    lines = list(
        (
            await session.exec(
                select(ReturnRequestLine)
                .where(ReturnRequestLine.return_request_id == request_id)
                .order_by(col(ReturnRequestLine.id))
            )
        ).all()
    )
    by_line = {line.order_line_id: line for line in lines}
    problems = Problems()
    broken: dict[int, int] = {}
    for index, item in enumerate(damaged):
        at = ("damaged", str(index))
        if item.order_line_id not in by_line:
            problems.add(
                ErrorCode.NOT_FOUND, "no line of this return has this id", *at, "order_line_id"
            )
        elif item.quantity < 0:
            problems.add(ErrorCode.INVALID, "the quantity must not be negative", *at, "quantity")
        else:
            broken[item.order_line_id] = broken.get(item.order_line_id, 0) + item.quantity
            if broken[item.order_line_id] > by_line[item.order_line_id].quantity:
                problems.add(
                    ErrorCode.INVALID,
                    f"only {by_line[item.order_line_id].quantity} units of this line are "
                    "returned",
                    *at, "quantity",
                )  # fmt: skip
    problems.raise_if_any()
    refund = await refund_units(
        session,
        refunder,
        order,
        RefundRequest(
            [Units(line.order_line_id, line.quantity) for line in lines],
            reason=f"returned: {request.reason}",
        ),
        RefundKind.RETURN,
        viewer.user_id,
        now,
        restock={i: line.quantity - broken.get(i, 0) for i, line in by_line.items()},
        field=(),
        order_field="id",
    )
    for line in lines:
        line.damaged = broken.get(line.order_line_id, 0)
    request.status = ReturnStatus.APPROVED.value
    request.note = said
    request.decided_by = viewer.user_id
    request.decided_at = now
    request.refund_id = refund.id if refund is not None else None
    kept = sum(broken.values())
    events.record(
        session, order.id, OrderEventType.RETURN_APPROVED,
        f"return approved: {sum(line.quantity for line in lines)} units refunded"
        + (f", {kept} damaged" if kept else ""), now,
    )  # fmt: skip
    await session.flush()
    return request


async def reject(
    session: AsyncSession, viewer: Viewer, request_id: int, reason: str, now: datetime
) -> ReturnRequest:
    """ReturnRequestReject (staff): the customer is told why by email."""
    order, request = await _locked(session, request_id)
    assert order.id is not None
    why = check_reason(reason, "reason")
    if not why:
        raise fail(ErrorCode.REQUIRED, "say why the return is rejected", "reason")
    request.status = ReturnStatus.REJECTED.value
    request.note = why
    request.decided_by = viewer.user_id
    request.decided_at = now
    events.record(session, order.id, OrderEventType.RETURN_REJECTED, f"return rejected: {why}", now)
    emails.return_rejected(session, order, why, now)
    await session.flush()
    return request
