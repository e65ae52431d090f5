"""Which promotions apply now: live automatic offers, coupons and their checks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import DomainError, ErrorCode, fail
from app.pricing.engine import PromotionKind, PromotionScope, Rule
from app.promotions.models import Promotion, PromotionRedemption

MAX_COUPONS_PER_CART = 5


def normalize_code(code: str) -> str:
    return code.strip().upper()


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
