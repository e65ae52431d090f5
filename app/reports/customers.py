"""Customers for staff who manage them: found by email or name, newest first, with how
many orders each placed and what their orders came to (no N+1: one statement for a
page's figures).

A customer is an active account that is not staff. `orderCount` counts every order the
customer placed, whatever became of it; `totalSpent` what the orders that count in
the sales report (`app.reports.sales.COUNTED`) came to, less what was given back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, or_
from sqlmodel import col, select

from app.accounts.models import User
from app.database import Database
from app.errors import ErrorCode, fail
from app.orders.models import Order
from app.paging import Keyset, Page, keyset_page
from app.reports.sales import COUNTED

CUSTOMERS = Keyset("CUSTOMERS", [col(User.id)], [int])
MAX_SEARCH = 200


@dataclass(frozen=True, slots=True)
class CustomerStats:
    orders: int = 0
    spent: int = 0


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(search: str | None) -> list[Any]:
    found: list[Any] = [col(User.is_staff).is_(False), col(User.is_active).is_(True)]
    term = " ".join((search or "").split()).lower()
    if len(term) > MAX_SEARCH:
        raise fail(ErrorCode.INVALID, f"search may have at most {MAX_SEARCH} characters", "search")
    if term:
        pattern = _like(term)
        name = func.lower(col(User.first_name) + " " + col(User.last_name))
        found.append(
            or_(
                col(User.email).like(pattern, escape="\\"),
                name.like(pattern, escape="\\"),
            )
        )
    return found


async def customers(db: Database, search: str | None, first: int, after: str | None) -> Page[User]:
    conditions = _conditions(search)
    async with db.session() as session:
        return await keyset_page(
            session, select(User).where(*conditions), CUSTOMERS, first, after, lambda u: [u.id]
        )


async def count_customers(db: Database, search: str | None) -> int:
    conditions = _conditions(search)
    async with db.session() as session:
        statement = select(func.count()).select_from(User).where(*conditions)
        return int((await session.exec(statement)).one())


async def stats(db: Database, user_ids: Sequence[int]) -> list[CustomerStats]:
    """Each customer's figures, in key order (a dataloader's batch): one statement."""
    counted = col(Order.status).in_([s.value for s in COUNTED])
    spent = func.sum(case((counted, col(Order.total) - col(Order.total_refunded)), else_=0))
    async with db.session() as session:
        rows = await session.exec(
            select(Order.user_id, func.count(), spent)
            .where(col(Order.user_id).in_(user_ids))
            .group_by(Order.user_id)
        )
        found = {user_id: CustomerStats(int(n), int(s or 0)) for user_id, n, s in rows.all()}
    return [found.get(user_id, CustomerStats()) for user_id in user_ids]
