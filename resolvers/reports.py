"""The back office's figures: the sales report, customers with their order figures."""

from __future__ import annotations

from datetime import date

from app.accounts.models import User
from app.accounts.permissions import Permission, can_see
from app.paging import Page
from app.reports import customers, sales
from resolvers.context import Context


async def sales_report(ctx: Context, start: date, end: date) -> sales.Sales:
    return await sales.sales(ctx.db, start, end)


async def top_products(
    ctx: Context, start: date, end: date, first: int
) -> list[sales.ProductSales]:
    return await sales.top_products(ctx.db, start, end, first)


async def customer_page(
    ctx: Context, search: str | None, first: int, after: str | None
) -> Page[User]:
    return await customers.customers(ctx.db, search, first, after)


async def count_customers(ctx: Context, search: str | None) -> int:
    return await customers.count_customers(ctx.db, search)


async def stats_of(ctx: Context, user_id: int) -> customers.CustomerStats | None:
    """A customer's order figures: for them and staff who manage customers."""
    if not can_see(await ctx.viewer(), user_id, Permission.MANAGE_CUSTOMERS):
        return None
    return await ctx.loaders.customer_stats.load(user_id)
