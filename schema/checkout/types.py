"""Promotions and shipping methods."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from app import ids
from app.money import to_decimal
from app.pricing.engine import BASIS_POINTS, PromotionKind, PromotionScope
from app.promotions import models
from app.shipping.models import ShippingMethod as ShippingMethodRow
from schema.common import Money, Node, node_id

PromotionKindEnum = strawberry.enum(PromotionKind, name="PromotionKind")
PromotionScopeEnum = strawberry.enum(PromotionScope, name="PromotionScope")


@strawberry.type
class ShippingMethod(Node):
    id: strawberry.ID
    name: str
    carrier: str
    countries: list[str]
    base_fee: Money
    per_kg_fee: Money
    free_over: Money | None
    min_days: int
    max_days: int
    price: Money | None = strawberry.field(
        description="What this method costs for the cart it is listed for; null elsewhere."
    )

    @classmethod
    def from_model(
        cls, row: ShippingMethodRow, currency: str, fee: int | None = None
    ) -> ShippingMethod:
        return cls(
            id=node_id(ids.SHIPPING_METHOD, row.id or 0),
            name=row.name,
            carrier=row.carrier,
            countries=list(row.countries),
            base_fee=Money.of(row.base_fee, currency),
            per_kg_fee=Money.of(row.per_kg_fee, currency),
            free_over=Money.maybe(row.free_over, currency),
            min_days=row.min_days,
            max_days=row.max_days,
            price=Money.maybe(fee, currency),
        )


@strawberry.type
class Promotion(Node):
    id: strawberry.ID
    name: str
    kind: PromotionKindEnum  # type: ignore[valid-type]
    value: Decimal = strawberry.field(
        description="Percent for PERCENTAGE; an amount in the shop currency otherwise."
    )
    min_subtotal: Money | None
    scope: PromotionScopeEnum  # type: ignore[valid-type]
    coupon_code: str | None
    priority: int
    stackable: bool
    starts_at: datetime | None
    ends_at: datetime | None
    usage_limit: int | None
    used_count: int
    per_customer_limit: int | None

    @classmethod
    def from_model(cls, row: models.Promotion, currency: str) -> Promotion:
        kind = PromotionKind(row.kind)
        value = (
            Decimal(row.value) / (BASIS_POINTS // 100)
            if kind is PromotionKind.PERCENTAGE
            else to_decimal(row.value, currency)
        )
        return cls(
            id=node_id(ids.PROMOTION, row.id or 0),
            name=row.name,
            kind=kind,
            value=value,
            min_subtotal=Money.maybe(row.min_subtotal, currency),
            scope=PromotionScope(row.scope),
            coupon_code=row.coupon_code,
            priority=row.priority,
            stackable=row.stackable,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            usage_limit=row.usage_limit,
            used_count=row.used_count,
            per_customer_limit=row.per_customer_limit,
        )
