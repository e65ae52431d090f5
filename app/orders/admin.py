"""Every order, for staff who manage orders: newest first, filtered by status, email and
when it was placed; orders hidden by their customers included."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func
from sqlmodel import col, select

from app.accounts.users import normalize_email
from app.database import Database
from app.orders.models import Order, OrderStatus
from app.paging import Keyset, Page, keyset_page, parse_time

ALL_ORDERS = Keyset("ORDERS", [col(Order.placed_at), col(Order.id)], [parse_time, int])


@dataclass(frozen=True, slots=True)
class OrderFilter:
    status: OrderStatus | None = None
    email: str | None = None  # the email the order was placed with, in any case
    placed_from: datetime | None = None  # inclusive
    placed_to: datetime | None = None  # exclusive

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.status is not None:
            found.append(col(Order.status) == self.status.value)
        if self.email:
            found.append(col(Order.email) == normalize_email(self.email))
        if self.placed_from is not None:
            found.append(col(Order.placed_at) >= self.placed_from)
        if self.placed_to is not None:
            found.append(col(Order.placed_at) < self.placed_to)
        return found


async def all_orders(
    db: Database, chosen: OrderFilter, first: int, after: str | None
) -> Page[Order]:
    async with db.session() as session:
        return await keyset_page(
            session,
            select(Order).where(*chosen.conditions()),
            ALL_ORDERS,
            first,
            after,
            lambda order: [order.placed_at, order.id],
        )


async def count_orders(db: Database, chosen: OrderFilter) -> int:
    async with db.session() as session:
        statement = select(func.count()).select_from(Order).where(*chosen.conditions())
        return int((await session.exec(statement)).one())
