"""The sales report: orders, revenue and average order value for a range of days, per
day, and the products that sold best; computed by the database (GROUP BY), so its
cost does not grow with the number of orders.

Which orders count: those paid and not cancelled, whatever happened since (PAID,
PARTIALLY_SHIPPED, SHIPPED, DELIVERED, COMPLETED); unpaid and cancelled orders do
not. An order counts on the day it was placed, in UTC (a day runs from 00:00 to
24:00 UTC), and `from` and `to` are both included. Revenue is what customers paid
(tax and shipping included) less what was given back to them (`totalRefunded`:
line refunds, returns; never an excess payment the order did not take), as it is
now. The average order value is the revenue over the orders, rounded half up to
the cent. A product's quantity and revenue are its units sold less those
refunded, and what they cost less what was given back for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, cast, func
from sqlmodel import col, select

from app.database import Database
from app.errors import ErrorCode, fail
from app.money import round_half_up
from app.orders.models import Order, OrderLine, OrderStatus

COUNTED: tuple[OrderStatus, ...] = (
    OrderStatus.PAID,
    OrderStatus.PARTIALLY_SHIPPED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
)
MAX_DAYS = 366
MAX_PRODUCTS = 100


@dataclass(frozen=True, slots=True)
class DaySales:
    day: date
    orders: int
    revenue: int


@dataclass(frozen=True, slots=True)
class Sales:
    start: date
    end: date
    days: list[DaySales]

    @property
    def orders(self) -> int:
        return sum(day.orders for day in self.days)

    @property
    def revenue(self) -> int:
        return sum(day.revenue for day in self.days)

    @property
    def average(self) -> int:
        return round_half_up(self.revenue, self.orders) if self.orders else 0


@dataclass(frozen=True, slots=True)
class ProductSales:
    product_id: int | None
    product_name: str
    quantity: int
    revenue: int


def check_range(start: date, end: date) -> None:
    if end < start:
        raise fail(ErrorCode.INVALID, "to must not be before from", "to")
    if (end - start).days + 1 > MAX_DAYS:
        raise fail(ErrorCode.INVALID, f"a report covers at most {MAX_DAYS} days", "to")


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants the days run from (inclusive) and to (exclusive), in UTC."""
    return (
        datetime.combine(start, time(0), UTC),
        datetime.combine(end + timedelta(days=1), time(0), UTC),
    )


def _counted(start: date, end: date) -> list[Any]:
    since, until = _bounds(start, end)
    return [
        col(Order.status).in_([s.value for s in COUNTED]),
        col(Order.placed_at) >= since,
        col(Order.placed_at) < until,
    ]


def _utc_day(dialect: str) -> Any:
    """The UTC day an order was placed on, as the database computes it."""
    if dialect == "postgresql":
        return cast(func.timezone("UTC", col(Order.placed_at)), Date)
    return func.date(col(Order.placed_at))  # SQLite keeps UTC times without a zone


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def sales(db: Database, start: date, end: date) -> Sales:
    """One statement: orders and revenue per day (days without orders as zeros)."""
    check_range(start, end)
    day = _utc_day(db.dialect).label("day")
    statement = (
        select(day, func.count(), func.sum(col(Order.total) - col(Order.total_refunded)))
        .where(*_counted(start, end))
        .group_by(day)
    )
    async with db.session() as session:
        rows = (await session.exec(statement)).all()  # type: ignore[call-overload]
    found = {_as_date(d): (int(n), int(r or 0)) for d, n, r in rows}
    days = []
    for offset in range((end - start).days + 1):
        current = start + timedelta(days=offset)
        orders, revenue = found.get(current, (0, 0))
        days.append(DaySales(current, orders, revenue))
    return Sales(start, end, days)


async def top_products(db: Database, start: date, end: date, first: int) -> list[ProductSales]:
    """One statement: the products of the counted orders by revenue, best first."""
    check_range(start, end)
    if not 0 <= first <= MAX_PRODUCTS:
        raise fail(ErrorCode.INVALID, f"first must be between 0 and {MAX_PRODUCTS}", "first")
    quantity = func.sum(col(OrderLine.quantity) - col(OrderLine.quantity_refunded))
    revenue = func.sum(col(OrderLine.total) - col(OrderLine.amount_refunded))
    statement = (
        select(OrderLine.product_id, func.max(OrderLine.product_name), quantity, revenue)
        .join(Order, col(Order.id) == col(OrderLine.order_id))
        .where(*_counted(start, end))
        .group_by(OrderLine.product_id)
        .order_by(revenue.desc(), quantity.desc(), col(OrderLine.product_id))
        .limit(first)
    )
    async with db.session() as session:
        rows: Sequence[Any] = (await session.exec(statement)).all()  # type: ignore[call-overload]
    return [
        ProductSales(product_id, str(name), int(units or 0), int(money or 0))
        for product_id, name, units, money in rows
    ]
