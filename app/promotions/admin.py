"""Staff create promotions: checked in full first, then written in the caller's
transaction."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.catalog.models import Category, Product
from app.catalog.version import storefront_changed
from app.database import flush_unique
from app.errors import ErrorCode, Problems, fail, field_label
from app.pricing.engine import BASIS_POINTS, PromotionKind, PromotionScope
from app.promotions.models import Promotion
from app.promotions.offers import normalize_code

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,63}$")


@dataclass(frozen=True, slots=True)
class PromotionData:
    name: str
    kind: PromotionKind
    value: Decimal  # percent for PERCENTAGE, else an amount in the shop currency
    value_minor: int | None  # the amount in minor units (None for PERCENTAGE)
    min_subtotal: int | None
    scope: PromotionScope
    category_ids: Sequence[int]
    product_ids: Sequence[int]
    coupon_code: str | None
    priority: int
    stackable: bool
    starts_at: datetime | None
    ends_at: datetime | None
    usage_limit: int | None
    per_customer_limit: int | None


def _value(data: PromotionData, problems: Problems) -> int:
    if data.kind is PromotionKind.PERCENTAGE:
        basis_points = data.value * 100
        if basis_points != basis_points.to_integral_value() or not 0 < basis_points <= BASIS_POINTS:
            problems.add(
                ErrorCode.INVALID,
                "a percentage is above 0 and at most 100, with at most two decimals",
                "input",
                "value",
            )
            return 0
        return int(basis_points)
    if data.kind is PromotionKind.FREE_SHIPPING:
        return 0
    if data.value_minor is None or data.value_minor <= 0:
        problems.add(ErrorCode.INVALID, "value must be a positive amount", "input", "value")
        return 0
    return data.value_minor


def _check_scope(data: PromotionData, problems: Problems) -> None:
    """What the promotion's kind and scope require."""
    if data.kind is PromotionKind.THRESHOLD and not data.min_subtotal:
        problems.add(
            ErrorCode.REQUIRED, "a THRESHOLD promotion needs minSubtotal", "input", "min_subtotal"
        )
    if data.min_subtotal is not None and data.min_subtotal < 0:
        problems.add(ErrorCode.INVALID, "minSubtotal cannot be negative", "input", "min_subtotal")
    if data.scope is PromotionScope.CATEGORIES and not data.category_ids:
        problems.add(
            ErrorCode.REQUIRED, "scope CATEGORIES needs categoryIds", "input", "category_ids"
        )
    if data.scope is PromotionScope.PRODUCTS and not data.product_ids:
        problems.add(ErrorCode.REQUIRED, "scope PRODUCTS needs productIds", "input", "product_ids")


def _check_dates_and_limits(data: PromotionData, problems: Problems) -> None:
    if data.starts_at and data.ends_at and data.ends_at <= data.starts_at:
        problems.add(ErrorCode.INVALID, "the end must be after the start", "input", "ends_at")
    for limit, field in (
        (data.usage_limit, "usage_limit"),
        (data.per_customer_limit, "per_customer_limit"),
    ):
        if limit is not None and limit < 1:
            problems.add(
                ErrorCode.INVALID, f"{field_label([field])} must be at least 1", "input", field
            )


def new_promotion(data: PromotionData, now: datetime) -> Promotion:
    """The promotion `data` describes, not yet saved; every problem with it raised at once."""
    problems = Problems()
    name = data.name.strip()
    if not 0 < len(name) <= 200:
        problems.add(
            ErrorCode.REQUIRED, "name is required (at most 200 characters)", "input", "name"
        )
    value = _value(data, problems)
    _check_scope(data, problems)
    code = normalize_code(data.coupon_code) if data.coupon_code else None
    if code is not None and not _CODE.match(code):
        problems.add(
            ErrorCode.INVALID,
            "a coupon code has 3 to 64 letters, digits, - or _",
            "input",
            "coupon_code",
        )
    _check_dates_and_limits(data, problems)
    problems.raise_if_any()
    return Promotion(
        name=name,
        kind=data.kind.value,
        value=value,
        min_subtotal=data.min_subtotal,
        scope=data.scope.value,
        category_ids=sorted(set(data.category_ids)),
        product_ids=sorted(set(data.product_ids)),
        coupon_code=code,
        priority=data.priority,
        stackable=data.stackable,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        usage_limit=data.usage_limit,
        per_customer_limit=data.per_customer_limit,
        created_at=now,
    )


async def add_promotion(session: AsyncSession, promotion: Promotion) -> Promotion:
    """Saves a promotion made by `new_promotion` once the categories and products it
    targets are known to exist."""
    await _require_targets(session, promotion)
    session.add(promotion)
    await flush_unique(
        session,
        conflict=fail(
            ErrorCode.ALREADY_EXISTS,
            f"the coupon code {promotion.coupon_code} is taken",
            "input",
            "coupon_code",
        ),
    )
    storefront_changed(session)
    return promotion


async def _require_targets(session: AsyncSession, promotion: Promotion) -> None:
    for model, ids, field, label in (
        (Category, promotion.category_ids, "category_ids", "the categories"),
        (Product, promotion.product_ids, "product_ids", "the products"),
    ):
        if not ids:
            continue
        found = set((await session.exec(select(model.id).where(col(model.id).in_(ids)))).all())
        if missing := set(ids) - found:
            raise fail(
                ErrorCode.NOT_FOUND, f"{len(missing)} of {label} do not exist", "input", field
            )
