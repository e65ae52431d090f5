"""Per-request context: identity, dataloaders and memoised lookups.

Loaders are built lazily and live for one request only, so cached rows never
leak between requests or customers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from functools import cached_property, partial
from typing import Any, TypeVar

from aiodataloader import DataLoader
from sqlmodel import SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts import addresses
from app.accounts.limits import AccountLimits
from app.accounts.models import Address, User
from app.accounts.permissions import Permission, Viewer, require_viewer
from app.accounts.users import load_viewer
from app.broker import Broker
from app.budget import Bucket, Charge, CostBuckets, bucket_for
from app.cache import Cache
from app.cart.models import Cart, CartLine
from app.catalog import loaders as catalog
from app.catalog.categories import CategoryTree, load_tree
from app.catalog.models import Product, ProductImage, ProductVariant, Warehouse
from app.database import Database, UnitOfWork
from app.errors import ErrorCode, fail
from app.giftcards.models import GiftCard
from app.inventory.models import Stock
from app.loaders import rows_by, rows_of
from app.logistics.carriers import Carriers
from app.logistics.models import Shipment, ShipmentEvent, ShipmentLine
from app.loyalty import points
from app.notifications.models import OutboxEmail
from app.orders.models import Order, OrderEvent, OrderLine
from app.payments.gateways import PaymentGateway
from app.payments.models import (
    Payment,
    PaymentNotification,
    Refund,
    RefundAllocation,
    RefundLine,
)
from app.payments.refunds import Refunder
from app.promotions.models import Promotion
from app.ratelimit import FailureLimiter
from app.reports import customers
from app.returns.models import ReturnRequest, ReturnRequestLine
from app.settings import Settings
from app.shipping.models import ShippingMethod

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")
M = TypeVar("M", bound=SQLModel)

# Bounds the size of one IN (...) list; far above any page size we serve.
MAX_BATCH = 1000


def _loader(db: Database, batch: Callable[[Database, Sequence[K]], Any]) -> DataLoader[K, V]:
    return DataLoader(partial(batch, db), max_batch_size=MAX_BATCH)


def _rows(db: Database, model: type[M], column: Any) -> DataLoader[Any, M | None]:
    """Rows of `model` by a unique column."""
    return DataLoader(partial(rows_by, db, model, column), max_batch_size=MAX_BATCH)


def _rows_of(db: Database, model: type[M], column: Any) -> DataLoader[Any, list[M]]:
    """Rows of `model` by a column many rows share, in id order."""
    return DataLoader(
        partial(rows_of, db, model, column, order_by=col(model.id)),  # type: ignore[attr-defined]
        max_batch_size=MAX_BATCH,
    )


class Loaders:
    def __init__(self, db: Database) -> None:
        self._db = db

    @cached_property
    def product(self) -> DataLoader[int, Product | None]:
        return _rows(self._db, Product, Product.id)

    @cached_property
    def product_by_slug(self) -> DataLoader[str, Product | None]:
        return _rows(self._db, Product, Product.slug)

    @cached_property
    def variants_by_product(self) -> DataLoader[int, list[catalog.StockedVariant]]:
        return _loader(self._db, catalog.variants_by_product)

    @cached_property
    def variant(self) -> DataLoader[int, ProductVariant | None]:
        return _rows(self._db, ProductVariant, ProductVariant.id)

    @cached_property
    def images_by_product(self) -> DataLoader[int, list[ProductImage]]:
        return _loader(self._db, catalog.images_by_product)

    @cached_property
    def tags_by_product(self) -> DataLoader[int, list[str]]:
        return _loader(self._db, catalog.tags_by_product)

    @cached_property
    def available_by_variant(self) -> DataLoader[int, int]:
        return _loader(self._db, catalog.available_by_variant)

    @cached_property
    def stocks_by_variant(self) -> DataLoader[int, list[Stock]]:
        return _loader(self._db, catalog.stocks_by_variant)

    @cached_property
    def warehouse(self) -> DataLoader[int, Warehouse | None]:
        return _rows(self._db, Warehouse, Warehouse.id)

    @cached_property
    def user(self) -> DataLoader[int, User | None]:
        return _rows(self._db, User, User.id)

    @cached_property
    def addresses_by_user(self) -> DataLoader[int, list[Address]]:
        return _loader(self._db, addresses.addresses_by_user)

    @cached_property
    def address(self) -> DataLoader[int, Address | None]:
        return _rows(self._db, Address, Address.id)

    @cached_property
    def recommendations(self) -> DataLoader[tuple[int, int], list[Product]]:
        return _loader(self._db, catalog.recommendations)

    @cached_property
    def cart(self) -> DataLoader[int, Cart | None]:
        return _rows(self._db, Cart, Cart.id)

    @cached_property
    def cart_by_token(self) -> DataLoader[str, Cart | None]:
        return _rows(self._db, Cart, Cart.token)

    @cached_property
    def cart_line(self) -> DataLoader[int, CartLine | None]:
        return _rows(self._db, CartLine, CartLine.id)

    @cached_property
    def order(self) -> DataLoader[int, Order | None]:
        return _rows(self._db, Order, Order.id)

    @cached_property
    def order_line(self) -> DataLoader[int, OrderLine | None]:
        return _rows(self._db, OrderLine, OrderLine.id)

    @cached_property
    def lines_by_order(self) -> DataLoader[int, list[OrderLine]]:
        return _rows_of(self._db, OrderLine, OrderLine.order_id)

    @cached_property
    def events_by_order(self) -> DataLoader[int, list[OrderEvent]]:
        return _rows_of(self._db, OrderEvent, OrderEvent.order_id)

    @cached_property
    def shipment(self) -> DataLoader[int, Shipment | None]:
        return _rows(self._db, Shipment, Shipment.id)

    @cached_property
    def shipments_by_order(self) -> DataLoader[int, list[Shipment]]:
        return _rows_of(self._db, Shipment, Shipment.order_id)

    @cached_property
    def lines_by_shipment(self) -> DataLoader[int, list[ShipmentLine]]:
        return _rows_of(self._db, ShipmentLine, ShipmentLine.shipment_id)

    @cached_property
    def events_by_shipment(self) -> DataLoader[int, list[ShipmentEvent]]:
        """A shipment's events in the order they happened (not the order they arrived)."""
        return DataLoader(
            partial(
                rows_of, self._db, ShipmentEvent, ShipmentEvent.shipment_id,
                order_by=(col(ShipmentEvent.occurred_at), col(ShipmentEvent.id)),
            ),
            max_batch_size=MAX_BATCH,
        )  # fmt: skip

    @cached_property
    def payment(self) -> DataLoader[int, Payment | None]:
        return _rows(self._db, Payment, Payment.id)

    @cached_property
    def payments_by_order(self) -> DataLoader[int, list[Payment]]:
        return _rows_of(self._db, Payment, Payment.order_id)

    @cached_property
    def refund(self) -> DataLoader[int, Refund | None]:
        return _rows(self._db, Refund, Refund.id)

    @cached_property
    def refunds_by_order(self) -> DataLoader[int, list[Refund]]:
        return _rows_of(self._db, Refund, Refund.order_id)

    @cached_property
    def allocations_by_refund(self) -> DataLoader[int, list[RefundAllocation]]:
        return _rows_of(self._db, RefundAllocation, RefundAllocation.refund_id)

    @cached_property
    def lines_by_refund(self) -> DataLoader[int, list[RefundLine]]:
        return _rows_of(self._db, RefundLine, RefundLine.refund_id)

    @cached_property
    def return_request(self) -> DataLoader[int, ReturnRequest | None]:
        return _rows(self._db, ReturnRequest, ReturnRequest.id)

    @cached_property
    def returns_by_order(self) -> DataLoader[int, list[ReturnRequest]]:
        return _rows_of(self._db, ReturnRequest, ReturnRequest.order_id)

    @cached_property
    def lines_by_return(self) -> DataLoader[int, list[ReturnRequestLine]]:
        return _rows_of(self._db, ReturnRequestLine, ReturnRequestLine.return_request_id)

    @cached_property
    def outbox_email(self) -> DataLoader[int, OutboxEmail | None]:
        return _rows(self._db, OutboxEmail, OutboxEmail.id)

    @cached_property
    def customer_stats(self) -> DataLoader[int, customers.CustomerStats]:
        return _loader(self._db, customers.stats)

    @cached_property
    def gift_card(self) -> DataLoader[int, GiftCard | None]:
        return _rows(self._db, GiftCard, GiftCard.id)

    @cached_property
    def payment_notification(self) -> DataLoader[int, PaymentNotification | None]:
        return _rows(self._db, PaymentNotification, PaymentNotification.id)

    @cached_property
    def points_balance(self) -> DataLoader[int, int]:
        return DataLoader(partial(points.balances, self._db), max_batch_size=MAX_BATCH)

    @cached_property
    def promotion(self) -> DataLoader[int, Promotion | None]:
        return _rows(self._db, Promotion, Promotion.id)

    @cached_property
    def shipping_method(self) -> DataLoader[int, ShippingMethod | None]:
        return _rows(self._db, ShippingMethod, ShippingMethod.id)


class Context:
    """What every resolver sees as `info.context`."""

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        cache: Cache,
        clock: Callable[[], datetime],
        request_id: str,
        viewer: Viewer | None,
        sign_in_limiter: FailureLimiter,
        account_limits: AccountLimits,
        gateway: PaymentGateway,
        client_address: str = "unknown",
        request: Any = None,
        response: Any = None,
        budgets: CostBuckets | None = None,
        client: str | None = None,
        broker: Broker | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.cache = cache
        self.clock = clock
        self.request_id = request_id
        self.user_id = viewer.user_id if viewer is not None else None
        self.sign_in_limiter = sign_in_limiter
        self.account_limits = account_limits
        self.gateway = gateway
        self.client_address = client_address
        self.request = request
        self.response = response
        self.budgets = budgets
        # The registered persisted-query client whose document this is, if any.
        self.client = client
        self.broker = broker
        # The operation's cost as judged before it runs (`schema.limits`), and what taking
        # it from the caller's bucket gave (`schema.budget`).
        self.requested_cost: int | None = None
        self.charge: Charge | None = None
        # As authentication found it, until a write in this request makes it stale.
        self._authenticated = viewer
        self._viewer: asyncio.Future[Viewer | None] | None = None
        # Relations fetched up front for a listing, so its fields answer without awaiting.
        self.ready_variants: dict[int, list[catalog.StockedVariant]] = {}
        self.ready_images: dict[int, list[ProductImage]] = {}
        self._tree: asyncio.Future[CategoryTree] | None = None
        self._unit: UnitOfWork | None = None
        # Over a WebSocket: whether the connection's credential still holds (a token expires
        # or is revoked while a subscription runs); None where the request is all there is.
        self.credential_holds: Callable[[], Awaitable[bool]] | None = None

    def renewed(self, request_id: str, viewer: Viewer | None, client: str | None = None) -> Context:
        """A context for one more operation on the same connection (a WebSocket): same
        services and client address, nothing remembered from earlier operations."""
        return Context(
            settings=self.settings,
            db=self.db,
            cache=self.cache,
            clock=self.clock,
            request_id=request_id,
            viewer=viewer,
            sign_in_limiter=self.sign_in_limiter,
            account_limits=self.account_limits,
            gateway=self.gateway,
            client_address=self.client_address,
            request=self.request,
            response=self.response,
            budgets=self.budgets,
            client=client,
            broker=self.broker,
        )

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders(self.db)

    async def require_credential(self) -> None:
        """UNAUTHENTICATED once the credential a long-lived operation started with has
        expired or been revoked."""
        if self.credential_holds is not None and not await self.credential_holds():
            raise fail(
                ErrorCode.UNAUTHENTICATED,
                "the access token expired or was revoked: subscribe again with a new one",
            )

    def forget_loaded(self) -> None:
        """Drops every row loaded so far: a subscription's next event reads afresh."""
        self.__dict__.pop("loaders", None)

    def refunder(self) -> Refunder:
        return Refunder(self.db, self.gateway)

    @cached_property
    def carriers(self) -> Carriers:
        return Carriers(self.settings.carriers)

    @property
    def currency(self) -> str:
        return self.settings.currency

    def now(self) -> datetime:
        return self.clock()

    def bucket(self) -> Bucket:
        """Whose cost budget pays for this operation (`app.budget.bucket_for`)."""
        return bucket_for(self.settings, self.user_id, self.client, self.client_address)

    async def viewer(self) -> Viewer | None:
        """The signed-in user (as authenticated, or reloaded from the cache after a write to
        it in this request); None when anonymous."""
        if self.user_id is None:
            return None
        if self._authenticated is not None:
            return self._authenticated
        if self._viewer is None:
            self._viewer = asyncio.ensure_future(load_viewer(self.db, self.cache, self.user_id))
        return await asyncio.shield(self._viewer)

    async def signed_in(self) -> Viewer:
        """The viewer; UNAUTHENTICATED (a userError in mutations) when anonymous."""
        return require_viewer(await self.viewer())

    def forget_viewer(self) -> None:
        """After a write to the viewer's account in this request, reload it when next asked."""
        self._authenticated = None
        self._viewer = None

    def begin_unit_of_work(self) -> UnitOfWork:
        """Called by the mutation boundary (`schema.mutations`), which also ends it."""
        self._unit = self.db.unit_of_work()
        return self._unit

    async def session(self) -> AsyncSession:
        """The mutation's write session: its one transaction, opened on first use."""
        if self._unit is None:
            raise RuntimeError("only a mutation writes, inside its unit of work")
        return await self._unit.session()

    async def is_staff(self) -> bool:
        viewer = await self.viewer()
        return viewer is not None and viewer.is_staff

    async def can(self, permission: Permission) -> bool:
        viewer = await self.viewer()
        return viewer is not None and viewer.can(permission)

    def loaded_category_tree(self) -> CategoryTree | None:
        """The tree when this request has it already (lets resolvers answer without awaiting)."""
        tree = self._tree
        if tree is None or not tree.done() or tree.cancelled() or tree.exception() is not None:
            return None
        return tree.result()

    async def category_tree(self) -> CategoryTree:
        """The category tree, read once per request (sibling resolvers share the read)."""
        if self._tree is None:
            self._tree = asyncio.ensure_future(load_tree(self.db, self.cache))
        return await asyncio.shield(self._tree)

    def forget_category_tree(self) -> None:
        """After a write in this request, the next read must see it."""
        self._tree = None
