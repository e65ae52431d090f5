"""A customer's own orders: the list (newest first, the last months unless asked for
more), hiding one from it, and a guest's order found by its number and email."""

from __future__ import annotations

import calendar
import re
from datetime import datetime

from sqlalchemy import ColumnElement, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.permissions import Viewer
from app.accounts.users import normalize_email
from app.database import Database
from app.orders import access, events, transitions
from app.orders.models import ORDER_NUMBER_OFFSET, Order, OrderEventType
from app.paging import Keyset, Page, keyset_page, parse_time

DEFAULT_MONTHS = 3
_DIGITS = re.compile(r"[0-9]{1,18}")
MY_ORDERS = Keyset("MY_ORDERS", [col(Order.placed_at), col(Order.id)], [parse_time, int])


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day when
    it is shorter: three months before May 31 is February 28 or 29)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _own(user_id: int, since: datetime) -> list[ColumnElement[bool]]:
    """A customer's own list: their orders placed since `since` that they have not hidden."""
    return [
        col(Order.user_id) == user_id,
        col(Order.placed_at) >= since,
        col(Order.hidden_at).is_(None),
    ]


async def customer_orders(
    db: Database, user_id: int, since: datetime, first: int, after: str | None
) -> Page[Order]:
    async with db.session() as session:
        return await keyset_page(
            session,
            select(Order).where(*_own(user_id, since)),
            MY_ORDERS,
            first,
            after,
            lambda order: [order.placed_at, order.id],
        )


async def count_customer_orders(db: Database, user_id: int, since: datetime) -> int:
    async with db.session() as session:
        statement = select(func.count()).select_from(Order).where(*_own(user_id, since))
        return int((await session.exec(statement)).one())


async def hide(session: AsyncSession, viewer: Viewer, order_id: int, now: datetime) -> Order:
    """Takes the order off its owner's list (staff, reports and the order keep it); hiding
    it again changes nothing. Only the owner may: for anyone else it is NOT_FOUND."""
    order = await transitions.lock(session, order_id)
    if order is None or order.user_id != viewer.user_id:
        raise access.not_found("id")
    if order.hidden_at is None:
        assert order.id is not None
        order.hidden_at = now
        events.record(
            session, order.id, OrderEventType.HIDDEN, "hidden from the customer's list", now
        )
        await session.flush()
    return order


def order_id_of_number(number: str) -> int | None:
    """The row id behind an order number (`Order.number`); None for anything else."""
    text = number.strip()
    if not _DIGITS.fullmatch(text):
        return None
    order_id = int(text) - ORDER_NUMBER_OFFSET
    return order_id if order_id > 0 else None


async def find_by_number(db: Database, number: str, email: str) -> Order | None:
    """The order with this number if it was placed with this email (in any case); None
    otherwise, whether the number is unknown or the email another."""
    order_id = order_id_of_number(number)
    if order_id is None:
        return None
    async with db.session() as session:
        order = await session.get(Order, order_id)
    if order is None or order.email != normalize_email(email):
        return None
    return order
