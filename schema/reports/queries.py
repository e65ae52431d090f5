"""The back office's figures: the sales report and the list of customers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from app.accounts.permissions import Permission
from app.accounts.users import viewer_of
from resolvers import reports as resolve
from schema.access import query, staff
from schema.accounts.types import User
from schema.common import CtxInfo, FirstArg, Money, PageInfo


@strawberry.type(description="One day's counted orders and revenue.")
class SalesDay:
    date: dt.date
    order_count: int
    revenue: Money


@strawberry.type(description="A product's units sold and what they brought in, net of refunds.")
class ProductSales:
    product_name: str
    quantity: int
    revenue: Money


@strawberry.type(
    description="Orders paid and not cancelled (PAID and later), counted on the UTC day they "
    "were placed, `from` and `to` included. Revenue is what customers paid (tax and shipping "
    "included) less what was given back to them; the average is revenue over orders."
)
class SalesReport:
    from_: dt.date = strawberry.field(name="from")
    to: dt.date
    order_count: int
    revenue: Money
    average_order_value: Money
    days: list[SalesDay] = strawberry.field(description="Every day of the range, oldest first.")

    @strawberry.field(description="Best sellers by revenue (at most 100).")
    async def top_products(self, info: CtxInfo, first: int = 10) -> list[ProductSales]:
        currency = info.context.currency
        rows = await resolve.top_products(info.context, self.from_, self.to, first)
        return [
            ProductSales(
                product_name=row.product_name,
                quantity=row.quantity,
                revenue=Money.of(row.revenue, currency),
            )
            for row in rows
        ]


@strawberry.type
class CustomerEdge:
    cursor: str
    node: User


@strawberry.type
class CustomerConnection:
    edges: list[CustomerEdge]
    page_info: PageInfo
    search: strawberry.Private[str | None]

    @strawberry.field(description="All the customers found (counted only when asked).")
    async def total_count(self, info: CtxInfo) -> int:
        return await resolve.count_customers(info.context, self.search)


@strawberry.type
class ReportQuery:
    @query(staff(Permission.MANAGE_ORDERS), "Sales between two days (at most 366), UTC.")
    async def sales_report(
        self,
        info: CtxInfo,
        from_: Annotated[dt.date, strawberry.argument(name="from")],
        to: dt.date,
    ) -> SalesReport:
        currency = info.context.currency
        report = await resolve.sales_report(info.context, from_, to)
        return SalesReport(
            from_=from_,
            to=to,
            order_count=report.orders,
            revenue=Money.of(report.revenue, currency),
            average_order_value=Money.of(report.average, currency),
            days=[
                SalesDay(
                    date=day.day, order_count=day.orders, revenue=Money.of(day.revenue, currency)
                )
                for day in report.days
            ],
        )

    @query(
        staff(Permission.MANAGE_CUSTOMERS),
        "Active customer accounts (not staff), newest first; `search` finds a part of the email or "
        "the name, in any case.",
    )
    async def customers(
        self, info: CtxInfo, first: FirstArg, after: str | None = None, search: str | None = None
    ) -> CustomerConnection:
        page = await resolve.customer_page(info.context, search, first, after)
        return CustomerConnection(
            edges=[
                CustomerEdge(cursor=cursor, node=User.from_viewer(viewer))
                for row, cursor in zip(page.items, page.cursors, strict=True)
                if (viewer := viewer_of(row)) is not None
            ],
            page_info=PageInfo.of(page),
            search=search,
        )
