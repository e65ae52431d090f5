"""Promotions: creation, which ones are live, coupon checks and counting uses."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.catalog.models import Category, Product
from app.checkout.models import Promotion, PromotionRedemption
from app.checkout.pricing import BASIS_POINTS, PromotionKind, PromotionScope, Rule
from app.database import Database, flush_unique
from app.errors import DomainError, ErrorCode, Problems, fail

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,63}$")
MAX_COUPONS_PER_CART = 5


def normalize_code(code: str) -> str:
    return code.strip().upper()


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


async def create_promotion(db: Database, data: PromotionData, now: datetime) -> Promotion:
    problems = Problems()
    name = data.name.strip()
    if not 0 < len(name) <= 200:
        problems.add(
            ErrorCode.REQUIRED, "name is required (at most 200 characters)", "input", "name"
        )
    value = _value(data, problems)
    if data.kind is PromotionKind.THRESHOLD and not data.min_subtotal:
        problems.add(
            ErrorCode.REQUIRED, "a THRESHOLD promotion needs minSubtotal", "input", "minSubtotal"
        )
    if data.min_subtotal is not None and data.min_subtotal < 0:
        problems.add(ErrorCode.INVALID, "minSubtotal cannot be negative", "input", "minSubtotal")
    if data.scope is PromotionScope.CATEGORIES and not data.category_ids:
        problems.add(
            ErrorCode.REQUIRED, "scope CATEGORIES needs categoryIds", "input", "categoryIds"
        )
    if data.scope is PromotionScope.PRODUCTS and not data.product_ids:
        problems.add(ErrorCode.REQUIRED, "scope PRODUCTS needs productIds", "input", "productIds")
    code = normalize_code(data.coupon_code) if data.coupon_code else None
    if code is not None and not _CODE.match(code):
        problems.add(
            ErrorCode.INVALID,
            "a coupon code has 3 to 64 letters, digits, - or _",
            "input",
            "couponCode",
        )
    if data.starts_at and data.ends_at and data.ends_at <= data.starts_at:
        problems.add(ErrorCode.INVALID, "endsAt must be after startsAt", "input", "endsAt")
    for limit, field in (
        (data.usage_limit, "usageLimit"),
        (data.per_customer_limit, "perCustomerLimit"),
    ):
        if limit is not None and limit < 1:
            problems.add(ErrorCode.INVALID, f"{field} must be at least 1", "input", field)
    problems.raise_if_any()
    async with db.transaction() as session:
        await _require_targets(session, data)
        promotion = Promotion(
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
        session.add(promotion)
        await flush_unique(
            session,
            conflict=fail(
                ErrorCode.ALREADY_EXISTS, f"the coupon code {code} is taken", "input", "couponCode"
            ),
        )
    return promotion


async def _require_targets(session: AsyncSession, data: PromotionData) -> None:
    for model, ids, field in (
        (Category, data.category_ids, "categoryIds"),
        (Product, data.product_ids, "productIds"),
    ):
        if not ids:
            continue
        found = set((await session.exec(select(model.id).where(col(model.id).in_(ids)))).all())
        if missing := set(ids) - found:
            raise fail(
                ErrorCode.NOT_FOUND, f"{len(missing)} of {field} do not exist", "input", field
            )


async def candidate_promotions(
    session: AsyncSession, codes: Sequence[str], now: datetime
) -> tuple[list[Promotion], list[Promotion]]:
    """(live automatic promotions, promotions of these coupon codes, live or not)."""
    # Ended automatic promotions stay out in SQL: they pile up over the years.
    automatic_now = and_(
        col(Promotion.coupon_code).is_(None),
        or_(col(Promotion.starts_at).is_(None), col(Promotion.starts_at) <= now),
        or_(col(Promotion.ends_at).is_(None), col(Promotion.ends_at) > now),
    )
    rows = (
        await session.exec(
            select(Promotion).where(
                or_(automatic_now, col(Promotion.coupon_code).in_(list(codes) or [""]))
            )
        )
    ).all()
    automatic = [
        p for p in rows if p.coupon_code is None and coupon_problem(p.name, p, now) is None
    ]
    coupons = [p for p in rows if p.coupon_code is not None]
    return automatic, coupons


def coupon_problem(
    code: str, promotion: Promotion | None, now: datetime, customer_uses: int = 0
) -> DomainError | None:
    """Why the coupon `code` (or automatic promotion) cannot be used now (None when it can)."""
    field = ("code",)
    if promotion is None or (promotion.starts_at is not None and promotion.starts_at > now):
        return fail(ErrorCode.COUPON_INVALID, f"{code} is not a valid coupon code", *field)
    if promotion.ends_at is not None and promotion.ends_at <= now:
        return fail(ErrorCode.COUPON_EXPIRED, f"the coupon {code} has expired", *field)
    if promotion.usage_limit is not None and promotion.used_count >= promotion.usage_limit:
        return fail(ErrorCode.COUPON_USAGE_LIMIT, f"the coupon {code} has been used up", *field)
    if promotion.per_customer_limit is not None and customer_uses >= promotion.per_customer_limit:
        return fail(
            ErrorCode.COUPON_USAGE_LIMIT,
            f"you have already used the coupon {code} as often as allowed",
            *field,
        )
    return None


async def customer_uses(
    session: AsyncSession, promotion_ids: Sequence[int], email: str | None
) -> dict[int, int]:
    if not promotion_ids or not email:
        return {}
    rows = await session.exec(
        select(PromotionRedemption.promotion_id, func.count())
        .where(
            col(PromotionRedemption.promotion_id).in_(promotion_ids),
            PromotionRedemption.customer_email == email,
        )
        .group_by(col(PromotionRedemption.promotion_id))
    )
    return dict(rows.all())


def rule_of(promotion: Promotion) -> Rule:
    assert promotion.id is not None
    return Rule(
        id=promotion.id,
        name=promotion.name,
        kind=PromotionKind(promotion.kind),
        value=promotion.value,
        scope=PromotionScope(promotion.scope),
        category_ids=frozenset(promotion.category_ids),
        product_ids=frozenset(promotion.product_ids),
        min_subtotal=promotion.min_subtotal,
        coupon_code=promotion.coupon_code,
        priority=promotion.priority,
        stackable=promotion.stackable,
    )


async def count_use(session: AsyncSession, promotion: Promotion) -> None:
    """One more use, never past the limit (a conditional update: safe under concurrency)."""
    assert promotion.id is not None
    result = await session.exec(  # type: ignore[call-overload]
        update(Promotion)
        .where(
            col(Promotion.id) == promotion.id,
            or_(
                col(Promotion.usage_limit).is_(None),
                col(Promotion.used_count) < col(Promotion.usage_limit),
            ),
        )
        .values(used_count=col(Promotion.used_count) + 1)
    )
    if result.rowcount != 1:
        code = promotion.coupon_code or promotion.name
        raise fail(ErrorCode.COUPON_USAGE_LIMIT, f"the coupon {code} has been used up", "code")
