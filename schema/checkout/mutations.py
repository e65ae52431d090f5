"""Back-office promotions and shipping methods; each declares its permission."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from app import ids
from app.accounts.permissions import Permission
from app.errors import Problems
from app.money import parse_amount
from app.pricing.engine import PromotionKind, PromotionScope
from app.promotions.admin import PromotionData
from app.shipping.admin import ShippingMethodData
from resolvers.checkout import checkout
from schema.access import mutation, staff
from schema.checkout.types import (
    Promotion,
    PromotionKindEnum,
    PromotionScopeEnum,
    ShippingMethod,
)
from schema.common import CtxInfo, Payload, decode_id


@strawberry.input
class PromotionInput:
    name: str
    kind: PromotionKindEnum  # type: ignore[valid-type]
    value: Decimal | None = strawberry.field(
        default=None,
        description="Percent for PERCENTAGE (12.5 = 12.5 %); an amount otherwise; "
        "unused for FREE_SHIPPING.",
    )
    min_subtotal: Decimal | None = None
    scope: PromotionScopeEnum = PromotionScope.ALL  # type: ignore[valid-type]
    category_ids: list[strawberry.ID] | None = None
    product_ids: list[strawberry.ID] | None = None
    coupon_code: str | None = None
    priority: int = 0
    stackable: bool = True
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    usage_limit: int | None = None
    per_customer_limit: int | None = None

    def to_data(self, currency: str) -> PromotionData:
        problems = Problems()
        kind = PromotionKind(self.kind)
        value = self.value if self.value is not None else Decimal(0)
        minor = (
            None
            if kind is PromotionKind.PERCENTAGE
            else parse_amount(value, currency, problems, "input", "value")
        )
        min_subtotal = parse_amount(self.min_subtotal, currency, problems, "input", "minSubtotal")
        problems.raise_if_any()
        return PromotionData(
            name=self.name,
            kind=kind,
            value=value,
            value_minor=minor,
            min_subtotal=min_subtotal,
            scope=PromotionScope(self.scope),
            category_ids=[
                decode_id(c, ids.CATEGORY, "input", "categoryIds") for c in self.category_ids or []
            ],
            product_ids=[
                decode_id(p, ids.PRODUCT, "input", "productIds") for p in self.product_ids or []
            ],
            coupon_code=self.coupon_code,
            priority=self.priority,
            stackable=self.stackable,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            usage_limit=self.usage_limit,
            per_customer_limit=self.per_customer_limit,
        )


@strawberry.input
class ShippingMethodInput:
    name: str
    countries: list[str] = strawberry.field(description="ISO 3166-1 alpha-2 codes served.")
    base_fee: Decimal
    carrier: str | None = None
    per_kg_fee: Decimal | None = strawberry.field(
        default=None, description="Added per started kilogram of the cart's weight."
    )
    free_over: Decimal | None = strawberry.field(
        default=None, description="Free when the merchandise subtotal reaches this."
    )
    min_days: int = 1
    max_days: int = 5

    def to_data(self, currency: str) -> ShippingMethodData:
        problems = Problems()
        base = parse_amount(self.base_fee, currency, problems, "input", "baseFee")
        per_kg = parse_amount(self.per_kg_fee, currency, problems, "input", "perKgFee")
        free_over = parse_amount(self.free_over, currency, problems, "input", "freeOver")
        problems.raise_if_any()
        return ShippingMethodData(
            name=self.name,
            carrier=self.carrier or "",
            countries=self.countries,
            base_fee=base or 0,
            per_kg_fee=per_kg or 0,
            free_over=free_over,
            min_days=self.min_days,
            max_days=self.max_days,
        )


@strawberry.type
class PromotionPayload(Payload):
    promotion: Promotion | None = None


@strawberry.type
class ShippingMethodPayload(Payload):
    shipping_method: ShippingMethod | None = None


@strawberry.type
class CheckoutAdminMutation:
    @mutation(
        staff(Permission.MANAGE_PROMOTIONS),
        "Create a promotion, automatic or behind a coupon code.",
    )
    async def promotion_create(self, info: CtxInfo, input: PromotionInput) -> PromotionPayload:
        ctx = info.context
        row = await checkout.create_promotion(ctx, input.to_data(ctx.currency))
        return PromotionPayload(promotion=Promotion.from_model(row, ctx.currency))

    @mutation(staff(Permission.MANAGE_SHIPPING), "Create a shipping rate template.")
    async def shipping_method_create(
        self, info: CtxInfo, input: ShippingMethodInput
    ) -> ShippingMethodPayload:
        ctx = info.context
        row = await checkout.create_shipping_method(ctx, input.to_data(ctx.currency))
        return ShippingMethodPayload(shipping_method=ShippingMethod.from_model(row, ctx.currency))
