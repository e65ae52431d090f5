"""Account types: users, their addresses, and token pairs."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from app import ids
from app.accounts import models
from app.accounts.addresses import AddressData
from app.accounts.permissions import Viewer
from app.accounts.sessions import TokenPair
from app.loyalty import models as loyalty
from app.orders.models import number_of
from resolvers import orders as resolve_orders
from resolvers import payments as resolve_payments
from resolvers import reports as resolve_reports
from resolvers.accounts import addresses as resolve_addresses
from resolvers.cart import carts as resolve_carts
from schema.common import CtxInfo, FirstArg, Money, Node, PageInfo, node_id

PointsEntryKind = strawberry.enum(loyalty.PointsEntryKind, name="PointsEntryKind")


@strawberry.type(description="One change to a customer's points.")
class PointsEntry:
    kind: PointsEntryKind  # type: ignore[valid-type]
    points: int = strawberry.field(description="Added (positive) or taken (negative).")
    balance_after: int
    order_number: str | None = strawberry.field(description="The order it was for.")
    created_at: datetime

    @classmethod
    def from_model(cls, row: loyalty.PointsEntry) -> PointsEntry:
        return cls(
            kind=loyalty.PointsEntryKind(row.kind),
            points=row.points,
            balance_after=row.balance_after,
            order_number=number_of(row.order_id) if row.order_id is not None else None,
            created_at=row.created_at,
        )


@strawberry.type
class PointsEntryEdge:
    cursor: str
    node: PointsEntry


@strawberry.type
class PointsEntryConnection:
    edges: list[PointsEntryEdge]
    page_info: PageInfo


if TYPE_CHECKING:
    from schema.cart.types import Cart
    from schema.orders.types import OrderConnection


@strawberry.type
class AuthToken:
    access_token: str = strawberry.field(description="Send as `Authorization: Bearer <token>`.")
    refresh_token: str = strawberry.field(
        description="Trade for a new pair with tokenRefresh; single use."
    )
    access_token_expires_at: datetime

    @classmethod
    def from_pair(cls, pair: TokenPair) -> AuthToken:
        return cls(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            access_token_expires_at=pair.access_token_expires_at,
        )


@strawberry.type
class Address(Node):
    id: strawberry.ID
    is_default: bool
    first_name: str
    last_name: str
    line1: str
    line2: str
    city: str
    region: str
    postal_code: str
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 code, e.g. US.")
    phone: str

    @classmethod
    def from_model(cls, row: models.Address) -> Address:
        return cls(
            id=node_id(ids.ADDRESS, row.id or 0),
            is_default=row.is_default,
            first_name=row.first_name,
            last_name=row.last_name,
            line1=row.line1,
            line2=row.line2,
            city=row.city,
            region=row.region,
            postal_code=row.postal_code,
            country=row.country,
            phone=row.phone,
        )

    @classmethod
    def of_cart(cls, cart_token: str, fields: dict[str, Any]) -> Address:
        """A cart's shipping address: the cart's own, with an id of the cart's kind."""
        return cls(id=node_id(ids.CART_ADDRESS, cart_token), is_default=False, **fields)

    @classmethod
    def of_order(cls, order_id: int, fields: dict[str, Any]) -> Address:
        """An order's shipping address: the snapshot taken at checkout."""
        return cls(id=node_id(ids.ORDER_ADDRESS, order_id), is_default=False, **fields)


@strawberry.input
class AddressInput:
    first_name: str
    last_name: str
    line1: str
    city: str
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 code, e.g. US.")
    line2: str | None = None
    region: str | None = None
    postal_code: str | None = None
    phone: str | None = None

    def to_data(self) -> AddressData:
        return AddressData(
            first_name=self.first_name,
            last_name=self.last_name,
            line1=self.line1,
            city=self.city,
            country=self.country,
            line2=self.line2 or "",
            region=self.region or "",
            postal_code=self.postal_code or "",
            phone=self.phone or "",
        )


@strawberry.type
class User(Node):
    id: strawberry.ID
    email: str
    first_name: str
    last_name: str
    is_staff: bool
    permissions: list[str]
    pk: strawberry.Private[int]

    @classmethod
    def from_viewer(cls, viewer: Viewer) -> User:
        return cls(
            id=node_id(ids.USER, viewer.user_id),
            email=viewer.email,
            first_name=viewer.first_name,
            last_name=viewer.last_name,
            is_staff=viewer.is_staff,
            permissions=sorted(p.value for p in viewer.permissions),
            pk=viewer.user_id,
        )

    @strawberry.field(description="The customer's active cart (the same on every device).")
    async def cart(
        self, info: CtxInfo
    ) -> Annotated[Cart, strawberry.lazy("schema.cart.types")] | None:
        from schema.cart.types import Cart

        viewer = await info.context.viewer()
        if viewer is None or viewer.user_id != self.pk:
            return None
        view = await resolve_carts.my_cart(info.context, viewer)
        return Cart.from_view(view, info) if view else None

    @strawberry.field(description="Saved addresses, the default first.")
    async def addresses(self, info: CtxInfo) -> list[Address]:
        rows = await resolve_addresses.of_user(info.context, self.pk)
        return [Address.from_model(row) for row in rows]

    @strawberry.field(
        description="The user's own orders, newest first: those placed since `since` (by "
        "default the last three months) and not hidden. Only the user sees them (null for "
        "anyone else)."
    )
    async def orders(
        self,
        info: CtxInfo,
        first: FirstArg,
        after: str | None = None,
        since: Annotated[
            datetime | None,
            strawberry.argument(
                description="Orders placed at or after this; default: three months ago."
            ),
        ] = None,
    ) -> Annotated[OrderConnection, strawberry.lazy("schema.orders.types")] | None:
        from schema.orders.types import OrderConnection

        viewer = await info.context.viewer()
        if viewer is None or viewer.user_id != self.pk:
            return None
        start = since or resolve_orders.default_since(info.context)
        page = await resolve_orders.my_orders(info.context, viewer, first, after, start)
        return OrderConnection.of_customer(page, self.pk, start)

    @strawberry.field(
        description="Orders the customer placed, whatever became of them; for the user and "
        "staff who manage customers."
    )
    async def order_count(self, info: CtxInfo) -> int | None:
        stats = await resolve_reports.stats_of(info.context, self.pk)
        return stats.orders if stats is not None else None

    @strawberry.field(
        description="What the customer's paid orders (not cancelled) came to, less what was "
        "given back; for the user and staff who manage customers."
    )
    async def total_spent(self, info: CtxInfo) -> Money | None:
        stats = await resolve_reports.stats_of(info.context, self.pk)
        return Money.of(stats.spent, info.context.currency) if stats is not None else None

    @strawberry.field(
        description="Loyalty points to spend; for the user and staff who manage customers."
    )
    async def points_balance(self, info: CtxInfo) -> int | None:
        return await resolve_payments.points_balance(info.context, self.pk)

    @strawberry.field(description="Every change to the user's points, newest first.")
    async def points_ledger(
        self, info: CtxInfo, first: FirstArg, after: str | None = None
    ) -> PointsEntryConnection | None:
        page = await resolve_payments.points_ledger(info.context, self.pk, first, after)
        if page is None:
            return None
        return PointsEntryConnection(
            edges=[
                PointsEntryEdge(cursor=cursor, node=PointsEntry.from_model(row))
                for row, cursor in zip(page.items, page.cursors, strict=True)
            ],
            page_info=PageInfo.of(page),
        )


@strawberry.input
class AccountRegisterInput:
    email: str
    password: str = strawberry.field(
        description="At least 10 characters, mixing at least two kinds "
        "(lower case, upper case, digits, symbols)."
    )
    first_name: str | None = None
    last_name: str | None = None


@strawberry.input
class AccountUpdateInput:
    first_name: str | None = None
    last_name: str | None = None
